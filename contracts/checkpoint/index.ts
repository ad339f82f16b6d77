export { getCheckpointDomain } from "./getCheckpointDomain.ts"
export { hashCheckpoint } from "./hashCheckpoint.ts"
export { packSignatures, SignatureLengthError } from "./packSignatures.ts"
export { recoverCheckpointSigner } from "./recoverCheckpointSigner.ts"
export { signCheckpoint } from "./signCheckpoint.ts"
export { DuplicateSignerError, sortSignatures } from "./sortSignatures.ts"
export {
  type Checkpoint,
  type CheckpointDomain,
  checkpointTypes,
  type SignerSignature,
} from "./types.ts"
