/**
 * Where the devnet's deployer (`cli/devnet/`) finds `chainDefinition`.
 * Services reach chains through `chains/` (`makeChainAccess`), never a
 * client of their own.
 *
 * @module
 */
export { chainDefinition } from "../../chains/evm/client.ts"
