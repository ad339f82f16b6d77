/**
 * An `InboxCall` (Chorus's terms) as the Inbox ABI takes it: the function
 * and its arguments, and their calldata.
 *
 * @module
 */
import { type Address, encodeFunctionData, type Hex } from "viem"
import { buildDeliverArgs, inboxAbi, packSignatures } from "../../contracts/index.ts"
import type { Checkpoint, Signature } from "../../schemas/index.ts"
import { toChorusMessage } from "../../services/runtime/contract-message.ts"
import type { InboxCall } from "../chain-access.ts"

/** The checkpoint as signed: the lane's root and count under the signers' epoch. */
const checkpointArg = (checkpoint: Checkpoint, epoch: number) => ({
  srcChainId: BigInt(checkpoint.srcChainId),
  outbox: checkpoint.outbox as Address,
  dstChainId: BigInt(checkpoint.dstChainId),
  root: checkpoint.root as Hex,
  count: checkpoint.count,
  epoch: BigInt(epoch),
})

const signaturesArg = (signatures: ReadonlyArray<Signature>): Hex =>
  packSignatures(signatures.map((s) => ({ signer: s.signer as Address, signature: s.signature as Hex })))

/** The Inbox function and arguments of a call, typed for viem. */
export type AbiInboxCall =
  | { readonly functionName: "commit"; readonly args: readonly [ReturnType<typeof checkpointArg>, Hex] }
  | { readonly functionName: "deliver"; readonly args: ReturnType<typeof buildDeliverArgs> }
  | {
      readonly functionName: "commitAndDeliver"
      readonly args: readonly [ReturnType<typeof checkpointArg>, Hex, number, Hex, readonly Hex[]]
    }
  | {
      readonly functionName: "retry"
      readonly args: readonly [ReturnType<typeof toChorusMessage>, Hex, readonly Hex[]]
    }
  | {
      readonly functionName: "updateOperatorSet"
      readonly args: readonly [readonly Address[], readonly bigint[], number, bigint, Hex]
    }

/**
 * The Inbox function and arguments of `call`; messages and proof that do not form one range throw
 * `DeliveryRangeError`.
 *
 * @example
 * ```ts
 * const { functionName, args } = abiCallOf({ kind: "commit", checkpoint, epoch: 1, signatures })
 * ```
 */
export const abiCallOf = (call: InboxCall): AbiInboxCall => {
  switch (call.kind) {
    case "commit":
      return {
        functionName: "commit",
        args: [checkpointArg(call.checkpoint, call.epoch), signaturesArg(call.signatures)],
      }
    case "deliver":
      return {
        functionName: "deliver",
        args: buildDeliverArgs({
          outbox: call.outbox as Address,
          messages: call.messages.map(toChorusMessage),
          proof: {
            start: call.start,
            end: call.start + call.messages.length,
            root: call.root as Hex,
            siblings: call.proof as ReadonlyArray<Hex>,
          },
        }),
      }
    case "commitAndDeliver": {
      const [, , , , start, messages, proof] = buildDeliverArgs({
        outbox: call.checkpoint.outbox as Address,
        messages: call.messages.map(toChorusMessage),
        proof: {
          start: call.start,
          end: call.start + call.messages.length,
          root: call.checkpoint.root as Hex,
          siblings: call.proof as ReadonlyArray<Hex>,
        },
      })
      return {
        functionName: "commitAndDeliver",
        args: [
          checkpointArg(call.checkpoint, call.epoch),
          signaturesArg(call.signatures),
          start,
          messages,
          proof,
        ],
      }
    }
    case "retry":
      return {
        functionName: "retry",
        args: [toChorusMessage(call.message), call.root as Hex, call.proof as ReadonlyArray<Hex>],
      }
    case "updateOperatorSet":
      return {
        functionName: "updateOperatorSet",
        args: [
          call.operators.map((o) => o.address as Address),
          call.operators.map((o) => BigInt(o.weight)),
          call.thresholdBps,
          BigInt(call.epoch),
          signaturesArg(call.signatures),
        ],
      }
  }
}

/**
 * The calldata of `call`.
 *
 * @example
 * ```ts
 * const data = calldataOf({ kind: "retry", message, root, proof })
 * ```
 */
export const calldataOf = (call: InboxCall): Hex =>
  encodeFunctionData({ abi: inboxAbi, ...abiCallOf(call) } as Parameters<
    typeof encodeFunctionData<typeof inboxAbi>
  >[0])
