import { describe, expect, it } from "vitest"
import { Address, BlockRef, Bytes32, OperatorWeight, toU256 } from "../../schemas/index.ts"
import { observation } from "./observe.ts"

const registry = Address.make(`0x${"11".repeat(20)}`)
const block = (number: number) =>
  new BlockRef({ number, hash: Bytes32.make(`0x${number.toString(16).padStart(64, "0")}`) })
const member = (n: number, weight: bigint) =>
  new OperatorWeight({
    address: Address.make(`0x${n.toString(16).padStart(40, "0")}`),
    weight: toU256(weight),
  })
const set = (epoch: number, weights: ReadonlyArray<bigint> = [1n, 2n], thresholdBps = 6667) => ({
  epoch,
  operators: weights.map((weight, i) => member(i + 1, weight)),
  thresholdBps,
})
const read = (number: number, s = set(1)) => ({ chainId: 901, registry, block: block(number), set: s })

describe("set-watcher observation", () => {
  it("given nothing recorded, then the first read is recorded, with its block", () => {
    const observed = observation(undefined, read(10))
    expect(observed).toMatchObject({ chainId: 901, registry, epoch: 1, thresholdBps: 6667, block: block(10) })
    expect(observed!.operators).toEqual(set(1).operators)
  })

  it("given the set recorded last, then a read of the same set at a later block records nothing", () => {
    expect(observation(observation(undefined, read(10)), read(11))).toBeUndefined()
  })

  it("given any change of epoch, weight, member or threshold, then the read is recorded", () => {
    const last = observation(undefined, read(10))
    for (const changed of [set(2), set(1, [1n, 3n]), set(1, [1n, 2n, 3n]), set(1, [1n, 2n], 5000)])
      expect(observation(last, read(11, changed))?.block.number).toBe(11)
  })

  it("given a lie recorded (an epoch far ahead), then the true set after it is recorded, not held back by the lie", () => {
    const lie = observation(undefined, read(10, set(1_000_000)))
    expect(observation(lie, read(11, set(2)))).toMatchObject({ epoch: 2 })
  })

  it("given an Inbox lagging the set recorded last, then the same set is recorded again once it is time, and only then", () => {
    const last = observation(undefined, read(10))
    expect(observation(last, read(11), { lagging: true, dueNow: false })).toBeUndefined()
    expect(observation(last, read(11), { lagging: false, dueNow: true })).toBeUndefined()
    expect(observation(last, read(12), { lagging: true, dueNow: true })).toMatchObject({
      epoch: 1,
      block: block(12),
    })
  })
})
