export { ANVIL_DEFAULT_KEYS } from "./anvilDefaultKeys.ts"
export { type AccountWallet, type AnvilClients, anvilClients } from "./clients.ts"
export { AnvilNotFoundError, resolveAnvilBinary } from "./resolveAnvilBinary.ts"
export { type Anvil, AnvilStartError, type StartAnvilOptions, startAnvil } from "./startAnvil.ts"
