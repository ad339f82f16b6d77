/**
 * Contract: dead-lettering at the decode edge (`../dead-letter.ts`).
 *
 * A record that does not decode goes to `chorus.dead-letters` with its raw
 * bytes, the error and where it came from; its offset is committed and the
 * consumer carries on with the next record.
 *
 * @module
 */
import { createHash } from "node:crypto"
import { expect } from "vitest"
import {
  DEAD_LETTER_TOPIC,
  type DeadLetterRecord,
  type DecodeResult,
  MAX_DEAD_LETTER_BYTES,
  subscribeDecoding,
} from "../dead-letter.ts"
import type { BusRecord } from "../port.ts"
import { byPartition, collect, contractPart, encode, topicSpec } from "./support.ts"

const decodeJson = (record: BusRecord): DecodeResult<{ n: number }> => {
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(record.value)) as { n: number }
    return { ok: true, value }
  } catch (error) {
    return {
      ok: false,
      error: {
        message: `not JSON: ${(error as Error).message}`,
        issues: [{ path: "value", message: "not JSON" }],
      },
    }
  }
}

/**
 * Registers this part of the contract; `busContractSuite` calls it.
 *
 * @example
 * ```ts
 * describe("bus contract: embedded", () => { deadLettersContract(contractContext(harness)) })
 * ```
 */
export const deadLettersContract = contractPart("dead letters", {
  "dead-letters an undecodable record with its bytes, error and source, and carries on": async (ctx) => {
    const { bus, topic, groupId } = await ctx.fresh("dead-letter", 1)
    await bus.ensureTopics([topicSpec(DEAD_LETTER_TOPIC, 3)])
    const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x22])
    const published = await bus.publish([
      { topic, key: "a", value: encode(JSON.stringify({ n: 1 })) },
      {
        topic,
        key: "b",
        value: garbage,
        headers: { "x-contract": "garbage" },
        timestamp: 1_700_000_000_000,
      },
      { topic, key: "c", value: encode(JSON.stringify({ n: 3 })) },
    ])

    const decoded: number[] = []
    const reported: BusRecord[] = []
    const subscription = await subscribeDecoding(bus, {
      groupId,
      topics: [topic],
      decode: decodeJson,
      handler: async (value) => {
        decoded.push(value.n)
      },
      onDeadLetter: (record) => reported.push(record),
    })

    await ctx.waitFor(
      "the record after the garbage to be handled",
      () => decoded.includes(3),
      () => `${decoded}`,
    )
    expect(decoded).toEqual([1, 3])
    expect(reported.map((r) => r.offset)).toEqual([published[1]!.offset])
    await ctx.waitFor(
      "all three committed",
      async () => byPartition(await bus.committedOffsets(groupId, topic))[0] === 3,
    )

    let letters: BusRecord[] = []
    await ctx.waitFor("the dead letter on its topic", async () => {
      const all = await collect(bus.read({ topic: DEAD_LETTER_TOPIC, from: "earliest" }))
      letters = all.filter((r) => r.key === `${topic}/0`)
      return letters.length > 0
    })
    expect(letters).toHaveLength(1)
    const [letterRecord] = letters
    expect(letterRecord!.headers["chorus-type"]).toBe("chorus.DeadLetter")
    const letter = JSON.parse(new TextDecoder().decode(letterRecord!.value)) as DeadLetterRecord
    expect(letter.type).toBe("chorus.DeadLetter")
    expect(letter.source).toEqual({
      topic,
      partition: 0,
      offset: published[1]!.offset,
      timestamp: 1_700_000_000_000,
    })
    expect(letter.consumer.groupId).toBe(groupId)
    expect(letter.consumer.memberId).toBe(subscription.memberId)
    expect(letter.error.message).toMatch(/^not JSON: /)
    expect(letter.error.issues).toEqual([{ path: "value", message: "not JSON" }])
    expect(letter.raw.key).toBe("b")
    expect(letter.raw.headers).toEqual({ "x-contract": "garbage" })
    expect([...Buffer.from(letter.raw.valueBase64, "base64")]).toEqual([...garbage])
  },

  "dead-letters a record larger than any dead letter may be as a bounded prefix with its size and digest, and carries on":
    async (ctx) => {
      const { bus, topic, groupId } = await ctx.fresh("dead-letter-large", 1)
      await bus.ensureTopics([topicSpec(DEAD_LETTER_TOPIC, 3)])
      // 900 KB: a broker with the default 1 MB limit takes it, but not a dead letter that copies it whole.
      const garbage = new Uint8Array(900_000).map((_, i) => (i * 31 + 7) % 251)
      await bus.publish([
        { topic, key: "big", value: garbage },
        { topic, key: "after", value: encode(JSON.stringify({ n: 2 })) },
      ])
      const decoded: number[] = []
      // A decoder that echoes what it read, as a real one does with an event type it does not know.
      const echoing = (record: BusRecord): DecodeResult<{ n: number }> =>
        record.key === "big"
          ? {
              ok: false,
              error: {
                message: `unknown event type ${"x".repeat(600_000)}`,
                issues: Array.from({ length: 5_000 }, (_, i) => ({
                  path: `field${i}`,
                  message: "y".repeat(200),
                })),
              },
            }
          : decodeJson(record)
      await subscribeDecoding(bus, {
        groupId,
        topics: [topic],
        decode: echoing,
        handler: async (value) => {
          decoded.push(value.n)
        },
      })
      await ctx.waitFor("the record after the large garbage to be handled", () => decoded.includes(2))

      let letters: BusRecord[] = []
      await ctx.waitFor("the dead letter on its topic", async () => {
        const all = await collect(bus.read({ topic: DEAD_LETTER_TOPIC, from: "earliest" }))
        letters = all.filter((r) => r.key === `${topic}/0`)
        return letters.length > 0
      })
      const [letterRecord] = letters
      expect(letterRecord!.value.length).toBeLessThanOrEqual(MAX_DEAD_LETTER_BYTES)
      const letter = JSON.parse(new TextDecoder().decode(letterRecord!.value)) as DeadLetterRecord
      const prefix = Buffer.from(letter.raw.valueBase64, "base64")
      expect(letter.raw.truncated).toBe(true)
      expect(letter.raw.size).toBe(garbage.length)
      expect(letter.raw.sha256).toBe(createHash("sha256").update(garbage).digest("hex"))
      expect([...prefix]).toEqual([...garbage.subarray(0, prefix.length)])
      expect(prefix.length).toBeGreaterThan(0)
    },
})
