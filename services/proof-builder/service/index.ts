/**
 * The proof-builder's runtime: the Outbox reader and the service entry point.
 *
 * @module
 */
export { BlockNotFinalizedError, WrongChainError } from "./errors.ts"
export { type LaneReader, makeLaneReader } from "./lane-reader.ts"
export {
  FINALITY_GRACE_MS,
  MAX_BLOCKS_AHEAD,
  MAX_READS_PER_INPUT,
  proofBuilderCoreFor,
  startProofBuilder,
} from "./start.ts"
