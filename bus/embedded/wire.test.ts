import { describe, expect, it } from "vitest"
import { BusProtocolError, PartitionOutOfRangeError, RemoteBusError } from "./errors.ts"
import {
  encodeFrame,
  FrameDecoder,
  fromWireError,
  fromWireOutgoing,
  fromWireRecord,
  MAX_FRAME_BYTES,
  toWireError,
  toWireOutgoing,
  toWireRecord,
} from "./wire.ts"

describe("shared-bus wire format", () => {
  it("given frames split and joined at any byte, when decoded, then yields each message once, in order", () => {
    const messages = [
      { id: 1, op: "partitions", topic: "a" },
      { id: 2, op: "watermarks", topic: "ü".repeat(300) },
      { id: 3, op: "readNext", stream: 7 },
    ] as const
    const bytes = Buffer.concat(messages.map((message) => encodeFrame(message)))
    for (const step of [1, 3, 5, 64, bytes.length]) {
      const decoder = new FrameDecoder()
      const seen: unknown[] = []
      for (let at = 0; at < bytes.length; at += step)
        seen.push(...decoder.push(bytes.subarray(at, at + step)))
      expect(seen).toEqual(messages)
    }
  })

  it("given a length over the limit or a body that is not JSON, when decoded, then fails with a protocol error", () => {
    const huge = Buffer.alloc(4)
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1, 0)
    expect(() => new FrameDecoder().push(huge)).toThrow(BusProtocolError)
    const garbage = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from("{x}")])
    expect(() => new FrameDecoder().push(garbage)).toThrow(BusProtocolError)
  })

  it("given records with binary values, headers and JSON-unsafe numbers, when carried, then arrive as the owner would see them locally", () => {
    const value = new Uint8Array([0, 255, 1, 128])
    const sent = {
      topic: "t",
      key: "k",
      value,
      headers: { a: "ß" },
      partition: 1,
      timestamp: Number.NaN,
    }
    expect(fromWireOutgoing(JSON.parse(JSON.stringify(toWireOutgoing(sent))))).toEqual(sent)

    const stored = {
      topic: "t",
      partition: 2,
      offset: 9,
      timestamp: 1_700_000_000_000,
      key: null,
      value,
      headers: {},
    }
    expect(fromWireRecord("t", JSON.parse(JSON.stringify(toWireRecord(stored))))).toEqual(stored)
  })

  it("given an error of the bus, when carried, then is re-created as its class with its tag, fields and message", () => {
    const original = new PartitionOutOfRangeError("t", 4, 2)
    const copy = fromWireError(JSON.parse(JSON.stringify(toWireError(original))), 42)
    expect(copy).toBeInstanceOf(PartitionOutOfRangeError)
    expect(copy).toMatchObject({
      _tag: "PartitionOutOfRangeError",
      details: { topic: "t", partition: 4, partitions: 2 },
      hint: original.hint,
    })
    expect(copy.message).toBe(original.message)
    expect(copy.stack).toContain("owner process 42")
  })

  it("given an error this process has no class for, when carried, then keeps its tag, name and message", () => {
    class StrangeError extends Error {
      readonly _tag = "StrangeError"
    }
    const copy = fromWireError(toWireError(new StrangeError("odd")), 42)
    expect(copy).toBeInstanceOf(RemoteBusError)
    expect(copy).toMatchObject({ _tag: "StrangeError", name: "Error", details: { ownerPid: 42 } })
    expect(copy.message).toContain("odd")
  })
})
