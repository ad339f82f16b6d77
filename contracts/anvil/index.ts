export { ANVIL_DEFAULT_KEYS } from "./anvilDefaultKeys.ts"
export { AnvilNotFoundError, resolveAnvilBinary } from "./resolveAnvilBinary.ts"
export { type Anvil, AnvilStartError, type StartAnvilOptions, startAnvil } from "./startAnvil.ts"
