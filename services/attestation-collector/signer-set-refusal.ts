/**
 * A commit the destination Inbox refused for its epoch or signer set: `EpochLeft` (signed under an epoch the Inbox
 * left, past its grace window), `EpochNotReached` (under one its update has not brought yet), `UnknownSigner` or
 * `InsufficientStake`. What a rotation does to a checkpoint attested under the set it replaced; the collector
 * answers it by counting the signatures again against the set the Inbox trusts now, and asking the operators to
 * sign again under its epoch.
 *
 * @module
 */
import { encodeErrorResult, zeroAddress } from "viem"
import { inboxAbi } from "../../contracts/index.ts"
import type { DeliveryFailed } from "../../schemas/index.ts"

/** The 4-byte selectors of the Inbox's epoch and signer-set errors, taken from its ABI. */
const SIGNER_SET_ERRORS: ReadonlySet<string> = new Set(
  [
    encodeErrorResult({ abi: inboxAbi, errorName: "UnknownSigner", args: [0n, zeroAddress] }),
    encodeErrorResult({ abi: inboxAbi, errorName: "InsufficientStake", args: [0n, 0n] }),
    encodeErrorResult({ abi: inboxAbi, errorName: "EpochLeft", args: [0n, 0n] }),
    encodeErrorResult({ abi: inboxAbi, errorName: "EpochNotReached", args: [0n, 0n] }),
  ].map((data) => data.slice(0, 10).toLowerCase()),
)

/**
 * Did the Inbox refuse this commit for its epoch or signer set?
 *
 * @example
 * ```ts
 * if (isSignerSetRefusal(failed)) reattest(failed.lane)
 * ```
 */
export const isSignerSetRefusal = (event: DeliveryFailed): boolean =>
  (event.action === "commit" || event.action === "commitAndDeliver") &&
  event.revertData !== null &&
  SIGNER_SET_ERRORS.has(event.revertData.slice(0, 10).toLowerCase())
