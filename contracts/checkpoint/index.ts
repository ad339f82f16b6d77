export { getCheckpointDomain } from "./getCheckpointDomain.ts"
export { hashCheckpoint, hashForInbox, hashOperatorSetUpdate, preimageForInbox } from "./hashCheckpoint.ts"
export { packSignatures, SignatureLengthError } from "./packSignatures.ts"
export { recoverCheckpointSigner } from "./recoverCheckpointSigner.ts"
export { signCheckpoint, signForInbox, signOperatorSetUpdate } from "./signCheckpoint.ts"
export { DuplicateSignerError, sortSignatures } from "./sortSignatures.ts"
export {
  type Checkpoint,
  type CheckpointDomain,
  checkpointTypes,
  type InboxTypedData,
  inboxTypes,
  type OperatorSet,
  operatorSetUpdateTypes,
  type SignerSignature,
} from "./types.ts"
