/**
 * The destination Inbox as the submitter uses it: the call each planned
 * action (or retry) becomes, and the reads that tell what the Inbox already
 * has (a root committed, messages attempted, a message's status) so that
 * nothing is sent twice.
 *
 * @module
 */

import { type Address, encodeFunctionData, type Hex, type PublicClient } from "viem"
import { buildDeliverArgs, type ChorusMessage, inboxAbi, packSignatures } from "../../../contracts/index.ts"
import type { Checkpoint, Lane, Message, Signature } from "../../../schemas/index.ts"
import { toChorusMessage } from "../../runtime/contract-message.ts"
import type { DeliverAction, InboxMessageStatus, PlannedAction, SingleProof } from "../core/index.ts"

const checkpointArg = (checkpoint: Checkpoint) => ({
  srcChainId: BigInt(checkpoint.srcChainId),
  outbox: checkpoint.outbox as Address,
  dstChainId: BigInt(checkpoint.dstChainId),
  root: checkpoint.root as Hex,
  count: checkpoint.count,
})

const signaturesArg = (signatures: ReadonlyArray<Signature>): Hex =>
  packSignatures(signatures.map((s) => ({ signer: s.signer as Address, signature: s.signature as Hex })))

const deliverArgs = (action: DeliverAction) =>
  buildDeliverArgs({
    outbox: action.lane.outbox as Address,
    messages: action.messages.map(toChorusMessage),
    proof: {
      start: action.start,
      end: action.start + action.messages.length,
      root: action.checkpoint.root as Hex,
      siblings: action.proof as ReadonlyArray<Hex>,
    },
  })

/** The Inbox function and arguments of a planned action, typed for viem. */
export type InboxCall =
  | { readonly functionName: "commit"; readonly args: readonly [ReturnType<typeof checkpointArg>, Hex] }
  | { readonly functionName: "deliver"; readonly args: ReturnType<typeof deliverArgs> }
  | {
      readonly functionName: "commitAndDeliver"
      readonly args: readonly [ReturnType<typeof checkpointArg>, Hex, number, Hex, readonly Hex[]]
    }
  | { readonly functionName: "retry"; readonly args: readonly [ChorusMessage, Hex, readonly Hex[]] }

/**
 * The Inbox call a planned action is.
 *
 * @example
 * ```ts
 * const call = inboxCallOf(plan.actions[0])
 * await client.estimateContractGas({ address: inbox, abi: inboxAbi, ...call, account })
 * ```
 */
export const inboxCallOf = (action: PlannedAction): InboxCall => {
  switch (action.kind) {
    case "commit":
      return {
        functionName: "commit",
        args: [checkpointArg(action.checkpoint), signaturesArg(action.signatures)],
      }
    case "deliver":
      return { functionName: "deliver", args: deliverArgs(action) }
    case "commitAndDeliver": {
      const [, , , , start, messages, proof] = deliverArgs(action)
      return {
        functionName: "commitAndDeliver",
        args: [checkpointArg(action.checkpoint), signaturesArg(action.signatures), start, messages, proof],
      }
    }
  }
}

/**
 * `Inbox.retry(message, root, proof)`: runs a failed message again.
 *
 * @example
 * ```ts
 * const call = retryCallOf(kept.message, kept.proofs[0])
 * ```
 */
export const retryCallOf = (message: Message, proof: SingleProof): InboxCall => ({
  functionName: "retry",
  args: [toChorusMessage(message), proof.checkpoint.root as Hex, proof.proof as ReadonlyArray<Hex>],
})

/**
 * `Inbox.deliver` of one message with its single proof (a range of one): a
 * message no delivery ran, re-driven on request.
 *
 * @example
 * ```ts
 * const call = singleDeliverCallOf(lane, kept.message, kept.proofs[0])
 * ```
 */
export const singleDeliverCallOf = (lane: Lane, message: Message, proof: SingleProof): InboxCall => ({
  functionName: "deliver",
  args: buildDeliverArgs({
    outbox: lane.outbox as Address,
    messages: [toChorusMessage(message)],
    proof: {
      start: message.nonce,
      end: message.nonce + 1,
      root: proof.checkpoint.root as Hex,
      siblings: proof.proof as ReadonlyArray<Hex>,
    },
  }),
})

/**
 * The calldata of an Inbox call.
 *
 * @example
 * ```ts
 * const data = calldataOf(inboxCallOf(action))
 * ```
 */
export const calldataOf = (call: InboxCall): Hex =>
  encodeFunctionData({ abi: inboxAbi, ...call } as Parameters<typeof encodeFunctionData<typeof inboxAbi>>[0])

/** Reads of what the Inbox already has. */
export interface InboxReader {
  /** The count `root` was committed with for the lane, or 0. */
  committedCount(lane: Lane, root: Hex): Promise<number>
  /** The nonces in `[start, end)` the Inbox has attempted (delivered or failed). */
  attempted(lane: Lane, start: number, end: number): Promise<ReadonlySet<number>>
  /** What the Inbox shows for one nonce of the lane: not attempted, delivered, or failed (retryable). */
  messageStatus(lane: Lane, nonce: number): Promise<InboxMessageStatus>
}

const STATUSES: ReadonlyArray<InboxMessageStatus> = ["none", "delivered", "failed"]

/**
 * An `InboxReader` over a chain client, reading the `latest` block.
 *
 * @example
 * ```ts
 * const reader = makeInboxReader(client, inbox)
 * const done = await reader.attempted(lane, 0, 64)
 * ```
 */
export const makeInboxReader = (client: PublicClient, inbox: Address): InboxReader => ({
  committedCount: async (lane, root) =>
    Number(
      await client.readContract({
        address: inbox,
        abi: inboxAbi,
        functionName: "committedCount",
        args: [BigInt(lane.srcChainId), lane.outbox as Address, root],
      }),
    ),
  attempted: async (lane, start, end) => {
    const done = new Set<number>()
    if (end <= start) return done
    // One read per 256 nonces: the bitmaps hold a word each.
    for (let word = Math.floor(start / 256); word <= Math.floor((end - 1) / 256); word++) {
      const [attempted] = await client.readContract({
        address: inbox,
        abi: inboxAbi,
        functionName: "deliveryBitmaps",
        args: [BigInt(lane.srcChainId), lane.outbox as Address, BigInt(word)],
      })
      for (let nonce = Math.max(start, word * 256); nonce < Math.min(end, word * 256 + 256); nonce++) {
        if ((attempted >> BigInt(nonce - word * 256)) & 1n) done.add(nonce)
      }
    }
    return done
  },
  messageStatus: async (lane, nonce) => {
    const status = await client.readContract({
      address: inbox,
      abi: inboxAbi,
      functionName: "messageStatus",
      args: [BigInt(lane.srcChainId), lane.outbox as Address, nonce],
    })
    const known = STATUSES[status]
    if (known === undefined) throw new RangeError(`Inbox.messageStatus returned ${status}, not 0, 1 or 2`)
    return known
  },
})
