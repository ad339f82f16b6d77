// A replay takes of its inputs only what its core folds (`ReplaySpec.folds`), and passes over by its claims
// alone only a well-formed record that is surely another's: a malformed one is checked, so it is reported
// undecodable, as production's consumer would dead-letter it.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { openEmbeddedBus } from "../../bus/embedded/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/anvil/index.ts"
import { encodeEnvelope, makeEnvelope, Producer, RetryRequested } from "../../schemas/index.ts"
import { ALL_TOPICS, TOPICS } from "../../topology/index.ts"
import { decodeConfig } from "../config/index.ts"
import { makeLaneFixture } from "../submitter/test/lane-fixture.ts"
import { replay } from "./replay.ts"
import { replayTargets } from "./targets.ts"

const config = decodeConfig({
  network: { registryChainId: 901, registry: "0x00000000000000000000000000000000000000aa" },
  chains: [901, 902, 903].map((chainId) => ({
    chainId,
    rpcUrls: ["http://127.0.0.1:1"],
    outbox: "0x00000000000000000000000000000000000a11ce",
    inbox: "0x00000000000000000000000000000000000000bb",
  })),
  submitters: [{ chainId: 902, privateKey: ANVIL_DEFAULT_KEYS[2] }],
})

const laneTo = (dstChainId: number) =>
  makeLaneFixture({
    srcChainId: 901,
    outbox: "0x00000000000000000000000000000000000a11ce",
    dstChainId,
    recipient: "0x000000000000000000000000000000000000c0de",
    count: 1,
  })

const requestOf = (lane: ReturnType<typeof laneTo>) =>
  makeEnvelope(
    new RetryRequested({
      messageId: lane.ids[0]!,
      lane: lane.lane,
      nonce: 0,
      requestedBy: "alice@ops",
      reason: null,
      requestedAt: "2026-12-05T00:00:00.000Z",
    } as ConstructorParameters<typeof RetryRequested>[0]),
    {
      producer: new Producer({ service: "retry", instance: "alice@ops", version: "test" }),
      causationId: null,
      time: new Date("2026-12-05T00:00:00.000Z"),
    },
  )

describe("what a submitter's replay takes of its inputs", () => {
  let dir: string
  let bus: BusPort
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "chorus-input-filter-"))
    bus = await openEmbeddedBus({ dataDir: dir })
    await bus.ensureTopics(ALL_TOPICS)
  })
  afterAll(async () => {
    await bus.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("given a request for its own lane, one for another destination's, and a record whose key is no lane, then it folds the first, passes over the second, and reports the third undecodable", async () => {
    const own = requestOf(laneTo(902))
    const other = requestOf(laneTo(903))
    const malformed = { topic: TOPICS.commandsRetry.name, ...encodeEnvelope(own), key: "no lane" }
    await bus.publish([
      { topic: TOPICS.commandsRetry.name, ...encodeEnvelope(own) },
      { topic: TOPICS.commandsRetry.name, ...encodeEnvelope(other) },
      malformed,
    ])
    const manifest = await replay({
      bus,
      targets: await replayTargets("submitter", config),
      from: { kind: "offset", offset: 0 },
      suffix: "input-filter",
    })
    expect(manifest.counts.replayed).toBe(1)
    expect(manifest.counts.undecodable).toBe(1)
    expect(manifest.undecodable[0]).toMatchObject({ topic: TOPICS.commandsRetry.name })
    expect(manifest.undecodable[0]!.error).toMatch(/key/)
  })
})
