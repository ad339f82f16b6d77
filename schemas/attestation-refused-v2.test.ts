/**
 * `AttestationRefused` version 2 (issue 12): the reason `rpc-invalid` joined
 * the closed union, so the version moved, and a version-1 record from an
 * older log still reads, as it was. (Version 3 added `chain-halted`, see
 * `chain-resume-events.test.ts`; both records read at the current version.)
 */
import { describe, expect, it } from "vitest"
import { EventCatalog } from "./catalog.ts"
import { eventId } from "./envelope.ts"
import { AttestationRefused } from "./events/attestation-refused.ts"
import { makeEnvelope, Producer } from "./index.ts"
import { Checkpoint } from "./lane.ts"
import { Address, Bytes32, ChainId } from "./primitives.ts"
import { decodeRecord, encodeEnvelope } from "./record-codec.ts"

const checkpoint = new Checkpoint({
  srcChainId: ChainId.make(901),
  outbox: Address.make(`0x${"33".repeat(20)}`),
  dstChainId: ChainId.make(902),
  root: Bytes32.make(`0x${"aa".repeat(32)}`),
  count: 5,
})
const operator = Address.make(`0x${"0a".repeat(20)}`)
const bytes = (json: unknown) => new TextEncoder().encode(JSON.stringify(json))

describe("AttestationRefused, version 2", () => {
  it("is at version 2 or later, and a refusal for rpc-invalid goes round the codec", () => {
    const current = EventCatalog.AttestationRefused.version
    expect(current).toBeGreaterThanOrEqual(2)
    const refusal = makeEnvelope(
      new AttestationRefused({
        checkpoint,
        operator,
        reason: "rpc-invalid",
        detail: "its own RPC answered garbage",
      }),
      {
        producer: new Producer({ service: "operator", instance: operator, version: "test" }),
        causationId: null,
        time: new Date(0),
      },
    )
    const decoded = decodeRecord(encodeEnvelope(refusal))
    if (!decoded.ok) throw decoded.error
    expect(decoded.value).toMatchObject({ version: current, event: { reason: "rpc-invalid" } })
  })

  it("given a version-1 refusal from an older log, when it is decoded, then it reads as it was, with its own id", () => {
    const payload = {
      _tag: "AttestationRefused",
      checkpoint: {
        srcChainId: 901,
        outbox: checkpoint.outbox,
        dstChainId: 902,
        root: checkpoint.root,
        count: 5,
      },
      operator,
      reason: "root-mismatch",
      detail: "its own RPC shows another root",
    }
    const id = eventId({ type: "AttestationRefused", version: 1, causationId: null, payload })
    const wire = {
      id,
      type: "AttestationRefused",
      version: 1,
      time: "2025-06-01T12:00:00.000Z",
      producer: { service: "operator", instance: operator, version: "0.3.0" },
      correlationId: null,
      causationId: null,
      payload,
    }
    const decoded = decodeRecord({ key: "901-902", value: bytes(wire), headers: {} })
    if (!decoded.ok) throw decoded.error
    expect(decoded.value).toMatchObject({
      id,
      version: EventCatalog.AttestationRefused.version,
      event: { reason: "root-mismatch", operator },
    })
  })
})
