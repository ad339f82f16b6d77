import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  checkPayload,
  decodePayload,
  encodeFrame,
  encodeFrames,
  FRAME_HEADER_BYTES,
  FrameDecodeError,
  payloadChecksum,
} from "./frame.ts"

const record = fc.record({
  offset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  timestamp: fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }),
  key: fc.option(fc.string({ unit: "grapheme", maxLength: 50 }), { nil: null }),
  value: fc.uint8Array({ maxLength: 300 }),
  headers: fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 40 }), {
    maxKeys: 5,
  }),
})

/** The frame as the format defines it, each text encoded on its own (the encoder before texts were written in place). */
const referenceFrame = (r: {
  offset: number
  timestamp: number
  key: string | null
  value: Uint8Array
  headers: Record<string, string>
}): Buffer => {
  const utf8 = (text: string) => Buffer.from(new TextEncoder().encode(text))
  const u32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
  const field = (bytes: Uint8Array) => Buffer.concat([u32(bytes.length), bytes])
  const numbers = Buffer.alloc(16)
  numbers.writeBigUInt64BE(BigInt(r.offset), 0)
  numbers.writeBigInt64BE(BigInt(Math.trunc(r.timestamp)), 8)
  const headers = Object.entries(r.headers)
  const payload = Buffer.concat([
    Buffer.from([1, r.key === null ? 0 : 1]),
    numbers,
    ...(r.key === null ? [] : [field(utf8(r.key))]),
    field(r.value),
    Buffer.from([headers.length >> 8, headers.length & 255]),
    ...headers.flatMap(([name, value]) => [field(utf8(name)), field(utf8(value))]),
  ])
  return Buffer.concat([u32(payload.length), u32(payloadChecksum(payload)), payload])
}

/** Any record, its texts any UTF-16 (lone surrogates too, which UTF-8 writes as U+FFFD). */
const anyTextRecord = fc.record({
  offset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  timestamp: fc.double({ min: -8e15, max: 8e15, noNaN: true }),
  key: fc.option(fc.string({ unit: "binary", maxLength: 30 }), { nil: null }),
  value: fc.uint8Array({ maxLength: 100 }),
  headers: fc.dictionary(
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 30 }),
    {
      maxKeys: 7,
    },
  ),
})

describe("frame", () => {
  it("writes every record byte for byte as the format defines it, alone or in a batch", () => {
    fc.assert(
      fc.property(fc.array(anyTextRecord, { minLength: 1, maxLength: 5 }), (records) => {
        expect(encodeFrame(records[0]!).equals(referenceFrame(records[0]!))).toBe(true)
        const first = records[0]!.offset
        const { bytes, lengths } = encodeFrames(records, first)
        const expected = records.map((r, i) => referenceFrame({ ...r, offset: first + i }))
        expect(lengths).toEqual(expected.map((frame) => frame.length))
        expect(bytes.equals(Buffer.concat(expected))).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it("round-trips every record and frames it as [length][crc][payload]", () => {
    fc.assert(
      fc.property(record, (r) => {
        const frame = encodeFrame(r)
        const payload = frame.subarray(FRAME_HEADER_BYTES)
        expect(frame.readUInt32BE(0)).toBe(payload.length)
        expect(frame.readUInt32BE(4)).toBe(payloadChecksum(payload))
        const decoded = decodePayload(payload)
        expect(decoded.offset).toBe(r.offset)
        expect(decoded.timestamp).toBe(r.timestamp)
        expect(decoded.key).toBe(r.key)
        expect([...decoded.value]).toEqual([...r.value])
        expect(decoded.headers).toEqual({ ...r.headers })
      }),
      { numRuns: 500 },
    )
  })

  it("changes the CRC when any payload byte flips", () => {
    fc.assert(
      fc.property(record, fc.nat(), fc.integer({ min: 1, max: 255 }), (r, at, mask) => {
        const frame = encodeFrame(r)
        const payload = Buffer.from(frame.subarray(FRAME_HEADER_BYTES))
        payload[at % payload.length]! ^= mask
        expect(payloadChecksum(payload)).not.toBe(frame.readUInt32BE(4))
      }),
      { numRuns: 300 },
    )
  })

  it("checks a payload (the scan on open) exactly as decoding it would, damaged or not", () => {
    const outcome = (read: () => { offset: number; timestamp: number }) => {
      try {
        const { offset, timestamp } = read()
        return { offset, timestamp }
      } catch (error) {
        if (!(error instanceof FrameDecodeError)) throw error
        return { error: error.message }
      }
    }
    fc.assert(
      fc.property(
        record,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
        fc.nat(),
        (r, flips, cut) => {
          const payload = Buffer.from(encodeFrame(r).subarray(FRAME_HEADER_BYTES))
          // Bytes flipped (texts that stop being UTF-8, lengths that point elsewhere), and the end cut off.
          for (const [at, mask] of flips) payload[at % payload.length]! ^= mask
          const damaged = payload.subarray(0, payload.length - (cut % 4 === 0 ? cut % payload.length : 0))
          expect(outcome(() => checkPayload(damaged))).toEqual(outcome(() => decodePayload(damaged)))
        },
      ),
      { numRuns: 1000 },
    )
    const notUtf8 = encodeFrame({ offset: 0, timestamp: 0, key: "k", value: new Uint8Array(), headers: {} })
    notUtf8[FRAME_HEADER_BYTES + 22]! = 0xff
    expect(() => checkPayload(notUtf8.subarray(FRAME_HEADER_BYTES))).toThrow(/text is not UTF-8/)
  })

  it("reads a text field exactly as the fatal UTF-8 decoder does: any bytes, a byte order mark, invalid sequences", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true })
    const keyOf = (bytes: Uint8Array) => {
      // A frame with a key of this many bytes, then the key's bytes replaced (the payload's key starts at 22).
      const frame = encodeFrame({
        offset: 0,
        timestamp: 0,
        key: "x".repeat(bytes.length),
        value: new Uint8Array(),
        headers: {},
      })
      const payload = Buffer.from(frame.subarray(FRAME_HEADER_BYTES))
      payload.set(bytes, 22)
      try {
        return { key: decodePayload(payload).key }
      } catch (error) {
        if (!(error instanceof FrameDecodeError)) throw error
        return { error: error.message }
      }
    }
    const expected = (bytes: Uint8Array) => {
      try {
        return { key: fatal.decode(bytes) }
      } catch {
        return { error: "frame payload does not decode: text is not UTF-8" }
      }
    }
    const bom = [0xef, 0xbb, 0xbf]
    const samples = [
      [],
      bom,
      [...bom, 0x61],
      [...bom, ...bom],
      [0xef, 0xbb],
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xc0, 0xaf], // overlong
      [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
      [0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80],
    ].map((b) => Uint8Array.from(b))
    for (const bytes of samples) expect(keyOf(bytes)).toEqual(expected(bytes))
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 12 }),
          fc.string({ unit: "binary", minLength: 1 }).map((t) => new TextEncoder().encode(t)),
        ),
        (bytes) => {
          expect(keyOf(bytes)).toEqual(expected(bytes))
          expect(keyOf(Uint8Array.from([...bom, ...bytes]))).toEqual(
            expected(Uint8Array.from([...bom, ...bytes])),
          )
        },
      ),
      { numRuns: 1000 },
    )
  })

  it("keeps a header named __proto__ as a header", () => {
    const headers = Object.fromEntries([["__proto__", "x"]])
    const frame = encodeFrame({ offset: 0, timestamp: 0, key: null, value: new Uint8Array(), headers })
    const decoded = decodePayload(frame.subarray(FRAME_HEADER_BYTES))
    expect(Object.entries(decoded.headers)).toEqual([["__proto__", "x"]])
  })

  it("rejects payloads that are truncated, padded or of an unknown version", () => {
    const frame = encodeFrame({
      offset: 1,
      timestamp: 2,
      key: "k",
      value: new Uint8Array([1, 2]),
      headers: {},
    })
    const payload = frame.subarray(FRAME_HEADER_BYTES)
    expect(() => decodePayload(payload.subarray(0, payload.length - 1))).toThrow(FrameDecodeError)
    expect(() => decodePayload(Buffer.concat([payload, Buffer.from([0])]))).toThrow(FrameDecodeError)
    const future = Buffer.from(payload)
    future[0] = 9
    expect(() => decodePayload(future)).toThrow(/unknown version 9/)
  })
})
