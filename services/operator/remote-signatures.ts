/**
 * An operator whose key stays in a remote signer (Web3Signer's API): its
 * signatures, put on what its core decided to sign.
 *
 * Pipeline, per input: the pure core decides as every operator's does, but
 * signs with a throwaway key, as a replay's core does; then, before anything
 * is published, each signature it made is replaced with the signer's over
 * the same EIP-712 preimage (`0x1901 ‖ domain ‖ struct`, which the signer
 * hashes), and the outputs are published.
 *
 * Why after the decision, not as a read before it: the signer must only
 * ever be asked for what the core chose to sign. A signature asked before the
 * checks (a forged root, a conflicting count, a superseded set) would exist,
 * and a signature that exists can be stolen.
 *
 * Invariants:
 * - the preimage is rebuilt from the output's own fields and must hash to
 *   the digest the core signed, so the signer signs exactly that digest;
 * - a signature that does not recover to the operator is refused
 *   (`remoteDigestSignature`), and nothing is published: the runtime
 *   discards the shard, and the input is handled again once the signer
 *   answers right;
 * - no output leaves with the throwaway signature: the core's signing
 *   outputs are `AttestationSigned` and `OperatorSetSigned`, and each is
 *   signed again here.
 *
 * @module
 */
import { keccak256 } from "viem"
import { type RemoteSignerRef, remoteDigestSignature } from "../../chains/index.ts"
import { type CheckpointDomain, preimageForInbox } from "../../contracts/index.ts"
import { ChorusError } from "../../errors/index.ts"
import { AttestationSigned, type ChorusEvent, Hex, OperatorSetSigned } from "../../schemas/index.ts"
import { toTypedCheckpoint } from "./sign-checkpoint.ts"
import { toTypedOperatorSet } from "./sign-operator-set.ts"

/** The core's digest and the preimage rebuilt from the output's fields disagree: a bug, never an input's fault. */
export class PreimageMismatchError extends ChorusError {
  override readonly name = "PreimageMismatchError"
  constructor(digest: string, rebuilt: string) {
    super(
      `the preimage rebuilt for a remote signature hashes to ${rebuilt}, not to the digest signed, ${digest}`,
      {
        details: { digest, rebuilt },
        hint: "nothing was asked of the signer nor published; report this as a bug with the input's id",
      },
    )
  }
}

/**
 * The `seal` of an operator's lane service whose key is in `signer`.
 *
 * @example
 * ```ts
 * startLaneService({ …, core: shadowCore, seal: remoteSignatures(signer, checkpointDomainOf(config)) })
 * ```
 */
export const remoteSignatures =
  (signer: RemoteSignerRef, domain: CheckpointDomain) =>
  async (outputs: ReadonlyArray<ChorusEvent>): Promise<ReadonlyArray<ChorusEvent>> => {
    const sealed: ChorusEvent[] = []
    // One at a time: an operator signs one or two outputs per input, and a signer is not to be flooded.
    for (const event of outputs) {
      if (event._tag === "AttestationSigned") {
        const preimage = preimageForInbox({
          domain,
          typed: { primaryType: "Checkpoint", message: toTypedCheckpoint(event.checkpoint, event.epoch) },
        })
        const signature = await signed(signer, preimage, event.digest)
        sealed.push(new AttestationSigned({ ...fieldsOf(event), signature }))
      } else if (event._tag === "OperatorSetSigned") {
        const preimage = preimageForInbox({
          domain,
          typed: { primaryType: "OperatorSetUpdate", message: toTypedOperatorSet(event) },
        })
        const signature = await signed(signer, preimage, event.digest)
        sealed.push(new OperatorSetSigned({ ...fieldsOf(event), signature }))
      } else {
        sealed.push(event)
      }
    }
    return sealed
  }

const signed = async (signer: RemoteSignerRef, preimage: `0x${string}`, digest: string) => {
  if (keccak256(preimage) !== digest.toLowerCase()) {
    throw new PreimageMismatchError(digest, keccak256(preimage))
  }
  return Hex.make((await remoteDigestSignature(signer, preimage)).toLowerCase())
}

/** A tagged event's fields, without its tag, to build it again with another signature. */
const fieldsOf = <E extends { readonly _tag: string }>(event: E): Omit<E, "_tag"> => {
  const { _tag, ...fields } = event
  return fields
}
