/**
 * What an Inbox refusal means for the work it refused, by custom error:
 *
 * - Temporary ("not now"): the Inbox or the source is paused, the Inbox
 *   has no operator set yet, or the checkpoint was signed under an epoch the
 *   Inbox has not reached (its update lands first). The work stays queued
 *   and goes again once the condition is lifted.
 * - The checkpoint's fault: its quorum does not hold on this Inbox (stake,
 *   signers, signatures, or an epoch the Inbox left), or the Inbox's owner revoked it. The root is refused — its
 *   messages wait for a new attestation of it (the collector has it signed again under the Inbox's epoch) or of a
 *   later checkpoint — but the messages are not.
 * - Short of gas in an included transaction (`InsufficientGas` at execution,
 *   not at the estimate): the estimate, made before the transactions ahead
 *   of it landed, no longer held. The batch is estimated again, once.
 * - Anything else (a bad proof, a malformed batch, a gas limit the chain
 *   cannot supply, an unregistered source, …) is the messages' fault: they
 *   are parked, for `chorus retry` or an operator.
 *
 * @module
 */
import { toFunctionSelector } from "viem"

const TRANSIENT = [
  "InboxPaused()",
  "SourcePaused(uint64)",
  "OperatorSetNotConfigured()",
  "EpochNotReached(uint64,uint64)",
] as const

const CHECKPOINT = [
  "EmptyCheckpoint()",
  "InvalidSignaturesLength(uint256)",
  "InvalidSignature(uint256)",
  "SignatureMalleable(uint256)",
  "SignersNotAscending(uint256,address,address)",
  "DuplicateSigner(uint256,address)",
  "UnknownSigner(uint256,address)",
  "InsufficientStake(uint256,uint256)",
  // Signed under an epoch the Inbox left: its messages wait for the signatures under the new one.
  "EpochLeft(uint64,uint64)",
  // The Inbox's owner revoked this root for good: its messages wait for a later checkpoint.
  "RevokedRoot(bytes32)",
] as const

const GAS_SHORTFALL = toFunctionSelector("InsufficientGas(uint32,uint64,uint256)")

const namesOf = (signatures: ReadonlyArray<string>): ReadonlySet<string> =>
  new Set(signatures.map((signature) => signature.slice(0, signature.indexOf("("))))
const selectorsOf = (signatures: ReadonlyArray<string>): ReadonlySet<string> =>
  new Set(signatures.map((signature) => toFunctionSelector(signature)))

/** The temporary Inbox errors, by name (as a decoded revert reports them). */
export const TRANSIENT_INBOX_ERRORS: ReadonlySet<string> = namesOf(TRANSIENT)
/** The Inbox errors that are the checkpoint's fault, by name. */
export const CHECKPOINT_INBOX_ERRORS: ReadonlySet<string> = namesOf(CHECKPOINT)

const TRANSIENT_SELECTORS = selectorsOf(TRANSIENT)
const CHECKPOINT_SELECTORS = selectorsOf(CHECKPOINT)

/**
 * Is this revert data a temporary Inbox refusal?
 *
 * @example
 * ```ts
 * isTransientRevert("0x3d674784") // true: InboxPaused()
 * ```
 */
export const isTransientRevert = (revertData: string): boolean =>
  TRANSIENT_SELECTORS.has(revertData.slice(0, 10).toLowerCase())

/**
 * Is this revert data a refusal of the checkpoint's quorum?
 *
 * @example
 * ```ts
 * isCheckpointRevert(insufficientStakeData) // true
 * ```
 */
export const isCheckpointRevert = (revertData: string): boolean =>
  CHECKPOINT_SELECTORS.has(revertData.slice(0, 10).toLowerCase())

/**
 * Is this revert data the Inbox finding too little gas left for a message (`InsufficientGas`)?
 *
 * @example
 * ```ts
 * isGasShortfall(encodeErrorResult({ abi: inboxAbi, errorName: "InsufficientGas", args: [3, 200_000n, 90_000n] })) // true
 * ```
 */
export const isGasShortfall = (revertData: string): boolean =>
  revertData.slice(0, 10).toLowerCase() === GAS_SHORTFALL
