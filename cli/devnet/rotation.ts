/**
 * Rotations of a running devnet's operator set, from the hub registry, measured on the chains: what
 * `chorus devnet --rotate` and `npm run bench:rotation` run while traffic flows.
 *
 * The steps, each a change of the hub registry by its owner (or, for the ejection, by a stranger's proof), each
 * waited for until every Inbox applied it:
 *   1. `add`: a standby operator (configured and running, not yet in the registry) joins;
 *   2. `remove`: an operator leaves;
 *   3. `reweigh`: an operator's weight and the threshold change (two transactions, two epochs);
 *   4. `eject`: an operator equivocates with its real key; the collector's evidence, sent by a stranger to
 *      `OperatorRegistry.proveEquivocation`, ejects it.
 *
 * Per step and destination, from the chains alone: the hub block where the change landed and the moment the
 * hub called it final (`finalized`), each destination's block number at that moment, and the block, time and
 * gas of the transaction that moved the Inbox to the epoch (its `OperatorSetUpdated` log). After the steps:
 * every checkpoint each Inbox committed after a removal or an ejection reached it, with its signers recovered
 * from the calldata of each commit it took: a signer no longer in the set there counts in
 * `removedSignaturesAccepted`.
 *
 * @module
 */
import {
  type Address,
  createWalletClient,
  decodeFunctionData,
  type Hex,
  http,
  keccak256,
  parseAbiItem,
  recoverAddress,
  stringToHex,
} from "viem"
import { privateKeyToAccount } from "viem/accounts"
import { readEvents } from "../../bus/events/index.ts"
import { hashCheckpoint, inboxAbi, operatorRegistryAbi } from "../../contracts/index.ts"
import { ChorusError } from "../../errors/index.ts"
import type { OperatorEquivocated } from "../../schemas/index.ts"
import { checkpointDomainOf } from "../../services/config/index.ts"
import { toTypedCheckpoint } from "../../services/operator/sign-checkpoint.ts"
import { TOPICS } from "../../topology/index.ts"
import type { Devnet } from "./devnet.ts"
import { equivocate } from "./equivocate.ts"
import { percentile } from "./tracker.ts"
import { ANVIL_KEYS, type DevnetChain, rpc } from "./world.ts"

const operatorSetUpdated = parseAbiItem(
  "event OperatorSetUpdated(uint64 indexed epoch, address[] operators, uint96[] weights, uint16 thresholdBps)",
)

/** One destination Inbox taking one step's epoch. */
export interface Propagation {
  readonly chainId: number
  /** The destination block whose transaction moved the Inbox to the epoch. */
  readonly block: number
  /** Destination blocks from the one it was at when the hub's change was final, to that block. */
  readonly blocks: number
  /** Seconds from the hub's change being final to the Inbox showing the epoch (polled every 100 ms). */
  readonly seconds: number
  readonly gasUsed: number
  readonly transactionHash: Hex
}

export interface RotationStep {
  readonly name: "add" | "remove" | "reweigh" | "eject"
  /** What changed, in words. */
  readonly change: string
  readonly epoch: number
  readonly hubBlock: number
  readonly propagations: ReadonlyArray<Propagation>
}

export interface RotationReport {
  readonly steps: ReadonlyArray<RotationStep>
  readonly propagationBlocksP50: number
  readonly propagationBlocksMax: number
  readonly propagationSecondsP50: number
  readonly propagationSecondsMax: number
  /** Gas of one `updateOperatorSet`, per destination and step. */
  readonly updateGas: { readonly min: number; readonly p50: number; readonly max: number }
  /** Commits after a removal or ejection reached an Inbox that carry a removed operator's signature. */
  readonly removedSignaturesAccepted: number
  /** Commits checked for it. */
  readonly commitsChecked: number
}

/** A step's change did not reach every Inbox in time. */
export class RotationStalledError extends ChorusError {
  override readonly name = "RotationStalledError"
  constructor(details: {
    step: string
    epoch: number
    waitingChains: ReadonlyArray<number>
    waitedMs: number
  }) {
    super(
      `rotation step ${details.step}: epoch ${details.epoch} did not reach chain(s) ${details.waitingChains.join(", ")} within ${details.waitedMs / 1000} s`,
      {
        details,
        hint: "Look at the set flow in `chorus operators --data-dir <dir>` and the services' log for why.",
      },
    )
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A transaction's receipt, polled every 50 ms: a client's own wait polls every few seconds, longer than a rotation. */
const receiptOf = async (chain: DevnetChain, hash: Hex) => {
  for (;;) {
    const receipt = await chain.client.getTransactionReceipt({ hash }).catch(() => null)
    if (receipt !== null) return receipt
    await sleep(50)
  }
}

/**
 * Runs the four steps on `devnet` (which must have a standby operator, `startDevnet({ standby: 1 })`) and
 * measures them.
 *
 * @example
 * ```ts
 * const report = await rotate(devnet, { log: console.log })
 * report.propagationBlocksP50 // 2
 * ```
 */
export const rotate = async (
  devnet: Devnet,
  options: { readonly log?: (line: string) => void; readonly stepTimeoutMs?: number } = {},
): Promise<RotationReport> => {
  const log = options.log ?? (() => {})
  const stepTimeoutMs = options.stepTimeoutMs ?? 120_000
  const { world } = devnet
  const hub = world.chains[0]!
  const owner = createWalletClient({
    account: privateKeyToAccount(ANVIL_KEYS.deployer),
    transport: http(hub.rpcUrl),
  })
  const registry = { address: world.registry, abi: operatorRegistryAbi, chain: null } as const
  const epochOfHub = () => hub.client.readContract({ ...registry, functionName: "epoch" })

  /** Waits for `hash` on the hub, then for the hub to call its block final, and every Inbox to take `epoch`. */
  const measure = async (
    name: RotationStep["name"],
    change: string,
    hashes: ReadonlyArray<Hex>,
  ): Promise<RotationStep> => {
    let hubBlock = 0
    for (const hash of hashes) {
      const receipt = await receiptOf(hub, hash)
      if (receipt.status !== "success")
        throw new Error(`rotation step ${name}: hub transaction ${hash} reverted`)
      hubBlock = Math.max(hubBlock, Number(receipt.blockNumber))
    }
    const epoch = Number(await epochOfHub())
    for (;;) {
      const finalized = await hub.client.getBlock({ blockTag: "finalized" })
      if (Number(finalized.number) >= hubBlock) break
      await sleep(100)
    }
    const finalAt = Date.now()
    const startBlocks = new Map(
      await Promise.all(
        world.chains.map(
          async (c) => [c.chainId, Number(await c.client.getBlockNumber({ cacheTime: 0 }))] as const,
        ),
      ),
    )
    const propagations: Propagation[] = []
    const waiting = new Set(world.chains.map((c) => c.chainId))
    while (waiting.size > 0) {
      if (Date.now() - finalAt > stepTimeoutMs)
        throw new RotationStalledError({
          step: name,
          epoch,
          waitingChains: [...waiting],
          waitedMs: stepTimeoutMs,
        })
      for (const chain of world.chains.filter((c) => waiting.has(c.chainId))) {
        const inboxEpoch = await chain.client.readContract({
          address: chain.inbox,
          abi: inboxAbi,
          functionName: "epoch",
        })
        if (Number(inboxEpoch) < epoch) continue
        waiting.delete(chain.chainId)
        propagations.push(
          await landing(chain, epoch, startBlocks.get(chain.chainId)!, (Date.now() - finalAt) / 1000),
        )
      }
      if (waiting.size > 0) await sleep(100)
    }
    propagations.sort((a, b) => a.chainId - b.chainId)
    log(
      `  ${name}: ${change} → epoch ${epoch}; every Inbox took it in ${propagations.map((p) => `${p.blocks} block(s)/${p.seconds.toFixed(1)} s on ${p.chainId}`).join(", ")}`,
    )
    return { name, change, epoch, hubBlock, propagations }
  }

  /** The transaction that moved `chain`'s Inbox to `epoch` (or past it), from its `OperatorSetUpdated` log. */
  const landing = async (
    chain: DevnetChain,
    epoch: number,
    startBlock: number,
    seconds: number,
  ): Promise<Propagation> => {
    const logs = await chain.client.getLogs({
      address: chain.inbox,
      event: operatorSetUpdated,
      fromBlock: BigInt(startBlock),
      toBlock: "latest",
    })
    const log = logs.find((l) => Number(l.args.epoch) >= epoch) ?? logs.at(-1)
    if (log === undefined)
      throw new Error(`chain ${chain.chainId}: no OperatorSetUpdated since block ${startBlock}`)
    const receipt = await chain.client.getTransactionReceipt({ hash: log.transactionHash })
    return {
      chainId: chain.chainId,
      block: Number(log.blockNumber),
      blocks: Number(log.blockNumber) - startBlock,
      seconds,
      gasUsed: Number(receipt.gasUsed),
      transactionHash: log.transactionHash,
    }
  }

  const write = (functionName: string, args: readonly unknown[]) =>
    owner.writeContract({ ...registry, functionName, args } as unknown as Parameters<
      typeof owner.writeContract
    >[0])

  const standby = world.operators.find((o) => !o.registered)
  const registered = world.operators.filter((o) => o.registered)
  if (standby === undefined || registered.length < 4)
    throw new Error(
      "rotate needs a devnet with four registered operators and a standby one (startDevnet({ standby: 1 }))",
    )
  const removed: Address[] = []
  const steps: RotationStep[] = []

  steps.push(
    await measure("add", `operator ${standby.address} joins with weight ${standby.weight}`, [
      await write("addOperator", [standby.address, standby.weight]),
    ]),
  )
  const leaving = registered[3]!
  removed.push(leaving.address)
  steps.push(
    await measure("remove", `operator ${leaving.address} leaves`, [
      await write("removeOperator", [leaving.address]),
    ]),
  )
  const reweighed = registered[1]!
  steps.push(
    await measure("reweigh", `operator ${reweighed.address} to weight 3500, threshold to 60%`, [
      await write("setWeight", [reweighed.address, 3500n]),
      await write("setThreshold", [6_000]),
    ]),
  )
  steps.push(await eject(devnet, registered[2]!.address, measure))
  removed.push(registered[2]!.address)

  const { checked, accepted } = await removedSignatures(devnet, steps, removed)
  const propagations = steps.flatMap((s) => s.propagations)
  const gas = propagations.map((p) => p.gasUsed)
  // Every step has a propagation per chain, so no list is empty.
  const p50 = (values: ReadonlyArray<number>) => percentile(values, 0.5) ?? 0
  return {
    steps,
    propagationBlocksP50: p50(propagations.map((p) => p.blocks)),
    propagationBlocksMax: Math.max(...propagations.map((p) => p.blocks)),
    propagationSecondsP50: Number(p50(propagations.map((p) => p.seconds)).toFixed(2)),
    propagationSecondsMax: Number(Math.max(...propagations.map((p) => p.seconds)).toFixed(2)),
    updateGas: { min: Math.min(...gas), p50: p50(gas), max: Math.max(...gas) },
    removedSignaturesAccepted: accepted,
    commitsChecked: checked,
  }
}

/** Step 4: `operator` equivocates; a stranger sends the collector's evidence to the hub, which ejects it. */
const eject = async (
  devnet: Devnet,
  operator: Address,
  measure: (name: RotationStep["name"], change: string, hashes: ReadonlyArray<Hex>) => Promise<RotationStep>,
): Promise<RotationStep> => {
  const hub = devnet.world.chains[0]!
  const index = devnet.world.operators.findIndex((o) => o.address.toLowerCase() === operator.toLowerCase())
  await equivocate(devnet, index)
  let evidence: OperatorEquivocated | undefined
  const deadline = Date.now() + 60_000
  while (evidence === undefined) {
    for await (const read of readEvents(devnet.bus, { topic: TOPICS.evidence.name, from: "earliest" }))
      if (
        read.ok &&
        read.envelope.event._tag === "OperatorEquivocated" &&
        read.envelope.event.operator.toLowerCase() === operator.toLowerCase()
      )
        evidence = read.envelope.event
    if (evidence === undefined) {
      if (Date.now() > deadline)
        throw new Error(`no evidence against ${operator} on ${TOPICS.evidence.name} within 60 s`)
      await sleep(250)
    }
  }
  const stranger = privateKeyToAccount(keccak256(stringToHex("chorus devnet: a stranger to Chorus")))
  await rpc(hub.rpcUrl, "anvil_setBalance", [stranger.address, "0xde0b6b3a7640000"])
  const client = createWalletClient({ account: stranger, transport: http(hub.rpcUrl) })
  const hash = await client.writeContract({
    address: devnet.world.registry,
    abi: operatorRegistryAbi,
    functionName: "proveEquivocation",
    args: [
      toTypedCheckpoint(evidence.first.checkpoint, evidence.first.epoch),
      evidence.first.signature as Hex,
      toTypedCheckpoint(evidence.second.checkpoint, evidence.second.epoch),
      evidence.second.signature as Hex,
    ],
    chain: null,
  })
  return measure("eject", `operator ${operator} equivocated; a stranger's proof ejects it`, [hash])
}

/**
 * Every commit (and commit-and-deliver) each Inbox took after a removal reached it, its signers recovered from
 * the calldata: how many signatures of an operator removed by then the Inbox took (the ground truth of
 * `removedSignaturesAccepted`).
 */
const removedSignatures = async (
  devnet: Devnet,
  steps: ReadonlyArray<RotationStep>,
  removed: ReadonlyArray<Address>,
): Promise<{ checked: number; accepted: number }> => {
  const domain = checkpointDomainOf(devnet.config)
  const outAt = (chainId: number, who: Address) => {
    const step = steps.find((s) => (s.name === "remove" || s.name === "eject") && s.change.includes(who))
    return step?.propagations.find((p) => p.chainId === chainId)?.block ?? Number.POSITIVE_INFINITY
  }
  let checked = 0
  let accepted = 0
  for (const chain of devnet.world.chains) {
    const from = Math.min(...removed.map((who) => outAt(chain.chainId, who)))
    if (!Number.isFinite(from)) continue
    // Every transaction the Inbox logged anything for: a commitAndDeliver that delivered its whole batch stores
    // no root and emits no CheckpointCommitted, but its signatures were checked all the same.
    const logs = await chain.client.getLogs({
      address: chain.inbox,
      fromBlock: BigInt(from),
      toBlock: "latest",
    })
    const transactions = new Map(logs.map((l) => [l.transactionHash, Number(l.blockNumber)] as const))
    for (const [hash, block] of transactions) {
      const tx = await chain.client.getTransaction({ hash })
      const call = decodeFunctionData({ abi: inboxAbi, data: tx.input })
      if (call.functionName !== "commit" && call.functionName !== "commitAndDeliver") continue
      const [checkpoint, packed] = call.args as unknown as [
        Parameters<typeof hashCheckpoint>[0]["checkpoint"],
        Hex,
      ]
      const digest = hashCheckpoint({ domain, checkpoint })
      checked++
      for (let i = 2; i < packed.length; i += 130) {
        const signer = (
          await recoverAddress({ hash: digest, signature: `0x${packed.slice(i, i + 130)}` })
        ).toLowerCase()
        const gone = removed.find((who) => who.toLowerCase() === signer)
        if (gone !== undefined && block >= outAt(chain.chainId, gone)) accepted++
      }
    }
  }
  return { checked, accepted }
}

/**
 * A rotation's figures in one line.
 *
 * @example
 * ```ts
 * describeRotation(report) // "rotation: 5 epochs to 3 Inboxes, propagation p50 2 block(s) / 1.9 s, …"
 * ```
 */
export const describeRotation = (report: RotationReport): string =>
  `rotation: ${report.steps.length} changes to ${report.steps[0]?.propagations.length ?? 0} Inboxes, propagation p50 ` +
  `${report.propagationBlocksP50} destination block(s) / ${report.propagationSecondsP50} s (max ${report.propagationBlocksMax} / ` +
  `${report.propagationSecondsMax} s), updateOperatorSet gas ${report.updateGas.min}–${report.updateGas.max}, ` +
  `signatures of removed operators taken after the change: ${report.removedSignaturesAccepted} of ${report.commitsChecked} commit(s) checked`
