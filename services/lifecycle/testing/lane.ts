/**
 * The lane the lifecycle's readers are tested on: messages 777 → 902 from
 * one Outbox, with the submitter's events (`makeLaneFixture`) and the
 * chain-watcher's observation of each message, so every reader's tests
 * build the same events the same way.
 *
 * @module
 */
import { BlockRef, Bytes32, MessageObserved, makeEnvelope, Producer, TxHash } from "../../../schemas/index.ts"
import { makeLaneFixture, T0 } from "../../submitter/test/lane-fixture.ts"

const watcher = new Producer({ service: "chain-watcher", instance: "777", version: "test" })

/**
 * A lane of `count` messages, and `observed(nonce, ms)`: the watcher's `MessageObserved` of one, `ms` after T0.
 *
 * @example
 * ```ts
 * const lane = makeTestLane(4)
 * indexEvent(store, lane.observed(0), place)
 * ```
 */
export const makeTestLane = (count: number) => {
  const lane = makeLaneFixture({
    srcChainId: 777,
    outbox: "0x00000000000000000000000000000000000a11ce",
    dstChainId: 902,
    recipient: "0x000000000000000000000000000000000000c0de",
    count,
  })
  const observed = (nonce: number, ms = 0) =>
    makeEnvelope(
      new MessageObserved({
        message: lane.messages[nonce]!,
        messageId: lane.ids[nonce]!,
        outbox: lane.outbox,
        block: new BlockRef({ number: 5, hash: Bytes32.make(`0x${"aa".repeat(32)}`) }),
        blockTimestamp: 1_767_225_600,
        transactionHash: TxHash.make(`0x${"cc".repeat(32)}`),
        logIndex: nonce,
      }),
      { producer: watcher, causationId: null, time: new Date(T0 + ms) },
    )
  return { ...lane, observed }
}
