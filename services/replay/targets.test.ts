import { Schema } from "effect"
import { privateKeyToAccount } from "viem/accounts"
import { describe, expect, it } from "vitest"
import { partitionForKey } from "../../bus/partitioner/index.ts"
import { ANVIL_DEFAULT_KEYS } from "../../contracts/anvil/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { ChorusConfig, ConfigError, decodeConfig } from "../config/index.ts"
import { proofBuilderCoreFor } from "../proof-builder/index.ts"
import { eraseCore } from "../runtime/index.ts"
import { builtFromConfig, NotReplayableError, replayTargets } from "./targets.ts"

const KEYS = [ANVIL_DEFAULT_KEYS[1], ANVIL_DEFAULT_KEYS[2]] as const

const config = decodeConfig({
  network: { registryChainId: 901, registry: "0x00000000000000000000000000000000000000aa" },
  chains: [901, 902].map((chainId) => ({
    chainId,
    rpcUrls: ["http://127.0.0.1:1"],
    outbox: "0x00000000000000000000000000000000000a11ce",
    inbox: "0x00000000000000000000000000000000000000bb",
  })),
  operators: KEYS.map((privateKey) => ({ privateKey })),
  submitters: [{ chainId: 902, privateKey: KEYS[0] }],
})

describe("replayTargets", () => {
  it("given the chain-watcher, then one instance per chain, over its chain's partition of the reads", async () => {
    const targets = await replayTargets("chain-watcher", config)
    expect(targets.map((t) => t.instance)).toEqual(["901", "902"])
    expect(targets[0]!.inputs).toEqual([TOPICS.watcherReads.name])
    expect(targets[1]!.partitions(3)).toEqual([partitionForKey("902", 3)])
    expect(targets[0]!.outputs).toEqual([
      TOPICS.messagesObserved.name,
      TOPICS.watcherCursors.name,
      TOPICS.chainHalts.name,
    ])
    expect(targets[0]!.readsRecorded).toBe(false)
    expect(
      (await replayTargets("chain-watcher", config, { instance: "902" })).map((t) => t.instance),
    ).toEqual(["902"])
  })

  it("given the operator, then one instance per operator, stamped with its checksummed address", async () => {
    const addresses = KEYS.map((k) => privateKeyToAccount(k).address)
    expect((await replayTargets("operator", config)).map((t) => t.instance)).toEqual(addresses)
    expect((await replayTargets("operator", config, { instance: "1" })).map((t) => t.instance)).toEqual([
      addresses[1],
    ])
    expect(
      (await replayTargets("operator", config, { instance: addresses[0]!.toLowerCase() })).map(
        (t) => t.instance,
      ),
    ).toEqual([addresses[0]])
    expect((await replayTargets("operator", config))[0]!.outputs).toEqual([
      TOPICS.attestationsSigned.name,
      TOPICS.operatorSetsSigned.name,
    ])
  })

  it("given the lane services with one instance, then their inputs and outputs are production's", async () => {
    const [builder] = await replayTargets("proof-builder", config)
    expect(builder).toMatchObject({ instance: "proof-builder", readsRecorded: true })
    expect(builder!.outputs).toEqual([TOPICS.checkpointsProposed.name, TOPICS.messagesProven.name])
    const [collector] = await replayTargets("attestation-collector", config)
    expect(collector!.inputs).toEqual([
      TOPICS.checkpointsProposed.name,
      TOPICS.attestationsSigned.name,
      TOPICS.operatorSets.name,
      TOPICS.operatorSetsSigned.name,
      TOPICS.deliveries.name,
    ])
    expect(collector!.outputs).toEqual([
      TOPICS.checkpointsAttested.name,
      TOPICS.checkpointsResign.name,
      TOPICS.attestationVerdicts.name,
      TOPICS.evidence.name,
      TOPICS.operatorSetsAttested.name,
    ])
  })

  it("given an instance that is not configured, or one for a single-instance service, then it is refused", async () => {
    await expect(replayTargets("chain-watcher", config, { instance: "999" })).rejects.toThrow(ConfigError)
    await expect(replayTargets("operator", config, { instance: "7" })).rejects.toThrow(/no operator "7"/)
    await expect(replayTargets("proof-builder", config, { instance: "x" })).rejects.toThrow(/single instance/)
  })

  it("given the submitter, then one instance per destination, folding its inputs and then its steps' reads, and writing what it reads back", async () => {
    const [submitter, ...others] = await replayTargets("submitter", config)
    expect(others).toEqual([])
    expect(submitter).toMatchObject({ service: "submitter", instance: "902", readsRecorded: false })
    expect(submitter!.inputs).toEqual([
      TOPICS.checkpointsAttested.name,
      TOPICS.operatorSetsAttested.name,
      TOPICS.messagesProven.name,
      TOPICS.commandsRetry.name,
      TOPICS.deliveries.name,
      TOPICS.laneReads.name,
    ])
    expect(submitter!.outputs).toEqual([TOPICS.deliveries.name])
    expect(submitter!.partitions(6)).toEqual([0, 1, 2, 3, 4, 5])
  })

  it("given the auditor, then it is refused with the reason", async () => {
    await expect(replayTargets("auditor", config)).rejects.toThrow(NotReplayableError)
    await expect(replayTargets("auditor", config)).rejects.toThrow(/writes no event to the bus/)
    await expect(replayTargets("proof-bilder", config)).rejects.toThrow(/not a Chorus service/)
  })

  it("given cores replayTargets built, then they are known as built from their config, and only from it", async () => {
    const [builder] = await replayTargets("proof-builder", config)
    const same = decodeConfig(JSON.parse(JSON.stringify(Schema.encodeSync(ChorusConfig)(config))))
    const other = decodeConfig({ ...Schema.encodeSync(ChorusConfig)(config), proofBuilder: { chunkSize: 1 } })
    expect(builtFromConfig(builder!.core, config)).toBe(true)
    expect(builtFromConfig(builder!.core, same)).toBe(true)
    expect(builtFromConfig(builder!.core, other)).toBe(false)
    expect(builtFromConfig(eraseCore(proofBuilderCoreFor(config, { chunkSize: 1 })), config)).toBe(false)
  })
})
