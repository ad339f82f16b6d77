export { AnvilNotFoundError, resolveAnvilBinary } from "./resolveAnvilBinary.ts"
export { type Anvil, AnvilStartError, type StartAnvilOptions, startAnvil } from "./startAnvil.ts"
