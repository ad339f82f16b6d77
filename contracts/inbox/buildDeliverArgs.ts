import type { Address, Hex } from "viem"
import { ChorusError } from "../../errors/index.ts"
import { encodeMessages } from "../message/encodeMessages.ts"
import type { ChorusMessage } from "../message/types.ts"

/** Messages and proof that do not form one deliverable range. */
export class DeliveryRangeError extends ChorusError {
  override readonly name = "DeliveryRangeError"
  declare readonly details: { reason: string }
  constructor(reason: string) {
    super(`cannot build a delivery: ${reason}`, {
      details: { reason },
      hint: "Pass one lane's consecutive messages and the proof of that range.",
    })
  }
}

/**
 * Arguments for `Inbox.deliver`: one lane's consecutive messages, packed, with their range proof against a
 * committed checkpoint root. Checks that the messages and the proof describe the same range.
 *
 * @example
 * const proof = getRangeProof(tree, { start: 0, end: 64, count: checkpoint.count })
 * await walletClient.writeContract({ address: inbox, abi: inboxAbi, functionName: "deliver",
 *   args: buildDeliverArgs({ outbox, messages, proof }) })
 */
export function buildDeliverArgs({
  outbox,
  messages,
  proof,
}: {
  outbox: Address
  messages: readonly ChorusMessage[]
  proof: { start: number; end: number; root: Hex; siblings: readonly Hex[] }
}): readonly [bigint, Address, bigint, Hex, number, Hex, readonly Hex[]] {
  const first = messages[0]
  if (!first) throw new DeliveryRangeError("no messages")
  messages.forEach((m, i) => {
    if (m.nonce !== first.nonce + i)
      throw new DeliveryRangeError(`nonce ${m.nonce} at position ${i} breaks the run`)
    if (m.srcChainId !== first.srcChainId || m.dstChainId !== first.dstChainId) {
      throw new DeliveryRangeError(`message ${m.nonce} belongs to another lane`)
    }
  })
  if (proof.start !== first.nonce || proof.end !== first.nonce + messages.length) {
    throw new DeliveryRangeError(
      `proof covers [${proof.start}, ${proof.end}) but messages cover [${first.nonce}, ${first.nonce + messages.length})`,
    )
  }
  return [
    first.srcChainId,
    outbox,
    first.dstChainId,
    proof.root,
    first.nonce,
    encodeMessages(messages),
    proof.siblings,
  ]
}
