/**
 * The owners of the RPC fault records (issue 12): a watcher records stalls of
 * its own chain only, an operator stalls of its own reads only, so one
 * instance's key cannot make `trace` blame another's RPC.
 */
import { describe, expect, it } from "vitest"
import {
  Address,
  ChainId,
  ChainReadFailed,
  type ChorusEvent,
  IsoTime,
  Lane,
  makeEnvelope,
  WatcherStalled,
} from "../../schemas/index.ts"
import { producerOf } from "../../services/runtime/index.ts"
import { ownerMismatch } from "./owner-check.ts"
import type { ProducerGrant } from "./producer-policy.ts"

const fault = {
  reason: "rpc-unreachable" as const,
  rpc: "http://127.0.0.1:1",
  what: "reading the finalized head",
  problem: "HTTP request failed.",
  since: IsoTime.make("2026-01-01T00:00:00.000Z"),
  attempts: 3,
}
const ME = Address.make(`0x${"0a".repeat(20)}`)
const OTHER = Address.make(`0x${"0b".repeat(20)}`)
const lane = new Lane({
  srcChainId: ChainId.make(901),
  outbox: Address.make(`0x${"33".repeat(20)}`),
  dstChainId: ChainId.make(902),
})
const grant = (service: string, instance: string): ProducerGrant =>
  ({ service, instance, publicKey: "0x00", topics: new Set() }) as unknown as ProducerGrant
const envelope = (event: ChorusEvent, service: "chain-watcher" | "operator", instance: string) =>
  makeEnvelope(event, { producer: producerOf(service, instance), causationId: null, time: new Date(0) })

describe("who may record an RPC's stall", () => {
  it("given the watcher of chain 901, then it may record a stall of chain 901, never of chain 902", () => {
    const own = new WatcherStalled({ chainId: ChainId.make(901), ...fault })
    const other = new WatcherStalled({ chainId: ChainId.make(902), ...fault })
    expect(
      ownerMismatch(envelope(own, "chain-watcher", "901"), grant("chain-watcher", "901")),
    ).toBeUndefined()
    expect(
      ownerMismatch(envelope(other, "chain-watcher", "901"), grant("chain-watcher", "901")),
    ).toMatchObject({
      reason: "owner-mismatch",
    })
  })

  it("given an operator, then it may record a failed read of its own, never one naming another operator", () => {
    const read = (reader: string) =>
      new ChainReadFailed({ reader, lane, outage: true, chainId: ChainId.make(901), ...fault })
    expect(ownerMismatch(envelope(read(ME), "operator", ME), grant("operator", ME))).toBeUndefined()
    expect(ownerMismatch(envelope(read(OTHER), "operator", ME), grant("operator", ME))).toMatchObject({
      reason: "owner-mismatch",
    })
  })
})
