/**
 * A chain's halt and its resume as the log carries them, for tests: a
 * `ChainHalted` its watcher wrote, and a `ChainResumed` the `chain-resume`
 * tool wrote to lift it.
 *
 * @module
 */
import { ChainHalted } from "../events/chain-halted.ts"
import { ChainResumed, ResumedLaneCount } from "../events/chain-resumed.ts"
import { type Envelope, makeEnvelope, Producer } from "../index.ts"
import { BlockRef } from "../lane.ts"
import { Address, Bytes32, ChainId } from "../primitives.ts"

/**
 * The `ChainHalted` chain `chainId`'s watcher writes when it finds `blockNumber` rewritten, at `time`.
 *
 * @example
 * ```ts
 * const halt = haltedEnvelope(901, { blockNumber: 41, time: new Date() })
 * ```
 */
export const haltedEnvelope = (
  chainId: number,
  options: { readonly blockNumber?: number; readonly time?: Date; readonly writer?: string } = {},
): Envelope<ChainHalted> => {
  const blockNumber = options.blockNumber ?? 41
  return makeEnvelope(
    new ChainHalted({
      chainId: ChainId.make(chainId),
      blockNumber,
      expectedHash: Bytes32.make(`0x${"41".repeat(32)}`),
      observedHash: Bytes32.make(`0x${"42".repeat(32)}`),
      reason: `block ${blockNumber} was 0x4141… when read, now 0x4242…: the chain was rewritten below the watcher's cursor (finality violated); stopping`,
    }),
    {
      producer: new Producer({
        service: options.writer ?? "chain-watcher",
        instance: String(chainId),
        version: "test",
      }),
      causationId: null,
      time: options.time ?? new Date(),
    },
  )
}

/**
 * The `ChainResumed` that lifts `halt` from trusted block `block` (hash `0x40…` unless given), with each
 * lane's Outbox count there (`counts`, by destination), written by `by` at `time`.
 *
 * @example
 * ```ts
 * const resume = resumedEnvelope(halt, { block: 40, counts: { 902: 3 }, time: new Date() })
 * ```
 */
export const resumedEnvelope = (
  halt: Envelope<ChainHalted>,
  options: {
    readonly block?: number
    readonly hash?: string
    readonly outbox?: string
    readonly counts?: Readonly<Record<number, number>>
    readonly time?: Date
    readonly by?: string
    readonly reason?: string | null
    readonly writer?: string
  } = {},
): Envelope<ChainResumed> => {
  const by = options.by ?? "alice@ops"
  return makeEnvelope(
    new ChainResumed({
      chainId: halt.event.chainId,
      outbox: Address.make((options.outbox ?? `0x${"33".repeat(20)}`).toLowerCase()),
      block: new BlockRef({
        number: options.block ?? halt.event.blockNumber - 1,
        hash: Bytes32.make(options.hash ?? `0x${"40".repeat(32)}`),
      }),
      lanes: Object.entries(options.counts ?? {}).map(
        ([dst, count]) => new ResumedLaneCount({ dstChainId: ChainId.make(Number(dst)), count }),
      ),
      halt: halt.id,
      by,
      reason: options.reason === undefined ? "the rewrite was investigated" : options.reason,
    }),
    {
      producer: new Producer({ service: options.writer ?? "chain-resume", instance: by, version: "test" }),
      causationId: null,
      time: options.time ?? new Date(),
    },
  )
}
