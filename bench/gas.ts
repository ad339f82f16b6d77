/**
 * Gas report for Chorus's on-chain half: `npm run bench:gas` (add `-- --json` for a machine-readable last line).
 *
 * For each operator set (4 and 16 operators, equal stake, threshold 2/3, every operator signs) and batch size
 * (1, 8, 32, 64, 256), it measures on a fresh anvil the transactions a submitter sends for one checkpoint whose new
 * messages are the batch: `commit` then `deliver` (batch 1 uses the one-transaction `commitAndDeliver`; its
 * commitGas is what a standalone commit costs in the same state and deliverGas the rest of that transaction).
 * gasPerMessage = (commitGas + deliverGas) / batch, so it includes the 21,000 base cost of each transaction and
 * calldata. The recipient does nothing, so only Chorus's own cost is counted.
 *
 * For each operator set it also measures the set's own transactions: `Inbox.updateOperatorSet` to a new set of the
 * same size (every current operator signs), `OperatorRegistry.proveEquivocation` of one operator, and
 * `OperatorRegistry.proveInvalidAttestation` of another: a false root at count 100 of a hub-chain lane of 128
 * messages, proven with the leaf's proof against the lane now (issue 14).
 *
 * The lane already carries `--prefill` messages (default 1000), committed and delivered, so each row measures a lane
 * in use (bitmap words and proof edges as in steady state) rather than the first message ever sent; `--prefill 0`
 * measures a brand-new lane.
 */
import { type Hex, parseEventLogs, toHex } from "viem"
import { packSignatures, signCheckpoint, signOperatorSetUpdate } from "../contracts/checkpoint/index.ts"
import { deployOutbox } from "../contracts/deploy/index.ts"
import { operatorRegistryAbi, outboxAbi } from "../contracts/out/index.ts"
import { createWorld, makeOperators, type World } from "../contracts/test/world.ts"
import { appendLeaf, createMerkleTree, getRangeProof } from "../services/proof-builder/merkle/index.ts"
import { announce } from "./announce.ts"

const BATCHES = [1, 8, 32, 64, 256]
const OPERATOR_SETS = [4, 16]
const THRESHOLD_BPS = 6667
const BODY = toHex(new Uint8Array(32).fill(0xab))
const GAS_LIMIT = 50_000n
/** Enough for a deliver of 500 prefill messages; anvil's default block limit is lower. */
const TX_GAS = 16_000_000n

type SetRow = {
  operators: number
  updateOperatorSetGas: number
  proveEquivocationGas: number
  proveInvalidAttestationGas: number
}

/** The gas of ejecting an operator that signed a false root at count 100 of a hub-chain lane of 128 messages. */
async function measureInvalidAttestation(w: World): Promise<number> {
  const outbox = await deployOutbox(w.clients)
  const tree = createMerkleTree()
  const ids: Hex[] = []
  for (let i = 0; i < 128; i++) {
    const receipt = await w.write(w.walletClient, outbox, outboxAbi, "send", [902n, w.ping, GAS_LIMIT, BODY])
    const [sent] = parseEventLogs({ abi: outboxAbi, logs: receipt.logs, eventName: "MessageSent" })
    appendLeaf(tree, sent!.args.messageId)
    ids.push(sent!.args.messageId)
  }
  const checkpoint = {
    srcChainId: BigInt(w.chainId),
    outbox,
    dstChainId: 902n,
    root: toHex(new Uint8Array(32).fill(0xfa)),
    count: 100,
    epoch: 1n,
  }
  const liar = w.operators[1]!
  const { siblings } = getRangeProof(tree, { start: 99, end: 100, count: 128 })
  const args = [
    checkpoint,
    await signCheckpoint({ account: liar, domain: w.domain, checkpoint }),
    128,
    ids[99]!,
    siblings,
  ]
  return Number(
    (await w.write(w.other, w.registry, operatorRegistryAbi, "proveInvalidAttestation", args, TX_GAS))
      .gasUsed,
  )
}

/** What moving an Inbox to a new set of the same size, and ejecting one equivocating operator, cost. */
async function measureSet(w: World, log: (line: string) => void): Promise<SetRow> {
  const snapshot = await w.testClient.snapshot()
  const operators = w.operators.length
  const next = makeOperators(operators, "bench-next")
  const update = {
    epoch: 2n,
    operators: next.map((o) => o.address),
    weights: next.map(() => 1n),
    thresholdBps: THRESHOLD_BPS,
  }
  const signatures = packSignatures(
    await Promise.all(
      w.operators.map(async (account) => ({
        signer: account.address,
        signature: await signOperatorSetUpdate({ account, domain: w.domain, update }),
      })),
    ),
  )
  const updateOperatorSetGas = Number(
    (
      await w.inboxWrite(
        "updateOperatorSet",
        [update.operators, update.weights, update.thresholdBps, update.epoch, signatures],
        TX_GAS,
      )
    ).gasUsed,
  )
  const liar = w.operators[0]!
  const lane = w.checkpointOf(w.makeLane(w.makeMessages(0, 2)).tree)
  const second = { ...lane, root: toHex(new Uint8Array(32).fill(0xee)) }
  const proof = [
    lane,
    await signCheckpoint({ account: liar, domain: w.domain, checkpoint: lane }),
    second,
    await signCheckpoint({ account: liar, domain: w.domain, checkpoint: second }),
  ]
  const proveEquivocationGas = Number(
    (await w.write(w.other, w.registry, operatorRegistryAbi, "proveEquivocation", proof, TX_GAS)).gasUsed,
  )
  await w.testClient.revert({ id: snapshot })
  // A snapshot is spent by the revert that returns to it.
  const before = await w.testClient.snapshot()
  const proveInvalidAttestationGas = await measureInvalidAttestation(w)
  await w.testClient.revert({ id: before })
  log(
    `${String(operators).padStart(9)}  updateOperatorSet ${updateOperatorSetGas}, proveEquivocation ${proveEquivocationGas}, proveInvalidAttestation ${proveInvalidAttestationGas}`,
  )
  return { operators, updateOperatorSetGas, proveEquivocationGas, proveInvalidAttestationGas }
}

type Row = { batch: number; operators: number; gasPerMessage: number; commitGas: number; deliverGas: number }

function parseArgs(argv: string[]) {
  const json = argv.includes("--json")
  const i = argv.indexOf("--prefill")
  const prefill = i >= 0 ? Number(argv[i + 1]) : 1000
  if (!Number.isInteger(prefill) || prefill < 0) {
    console.error("bench:gas: --prefill takes a non-negative integer (messages already in the lane).")
    process.exit(2)
  }
  return { json, prefill }
}

/** The rows of one operator set, measured on its own world (anvil, registry, Inbox mirroring the set). */
async function measure(w: World, prefill: number, log: (line: string) => void): Promise<Row[]> {
  const send = async (functionName: string, args: readonly unknown[]) =>
    Number((await w.inboxWrite(functionName, args, TX_GAS)).gasUsed)
  const lane = w.makeLane(
    w.makeMessages(0, prefill + Math.max(...BATCHES), { recipient: w.noop, gasLimit: GAS_LIMIT, body: BODY }),
  )
  if (prefill > 0) {
    await w.commit(w.checkpointOf(lane.tree, prefill))
    for (let start = 0; start < prefill; start += 500) {
      await send("deliver", w.deliverArgs(lane, start, Math.min(prefill, start + 500), prefill))
    }
  }
  const rows: Row[] = []
  for (const batch of BATCHES) {
    const snapshot = await w.testClient.snapshot()
    const count = prefill + batch
    const checkpoint = w.checkpointOf(lane.tree, count)
    const signatures = await w.sign(checkpoint)
    let commitGas: number
    let deliverGas: number
    if (batch === 1) {
      commitGas = await send("commit", [checkpoint, signatures])
      await w.testClient.revert({ id: snapshot })
      const inner = await w.testClient.snapshot()
      const total = await send(
        "commitAndDeliver",
        w.commitAndDeliverArgs(lane, checkpoint, signatures, prefill, count),
      )
      deliverGas = total - commitGas
      await w.testClient.revert({ id: inner })
    } else {
      commitGas = await send("commit", [checkpoint, signatures])
      deliverGas = await send("deliver", w.deliverArgs(lane, prefill, count, count))
    }
    await w.testClient.revert({ id: snapshot })
    const gasPerMessage = Math.round((commitGas + deliverGas) / batch)
    const operators = w.operators.length
    rows.push({ batch, operators, gasPerMessage, commitGas, deliverGas })
    log(
      `${String(operators).padStart(9)} ${String(batch).padStart(6)} ${String(commitGas).padStart(10)} ${String(deliverGas).padStart(11)} ${String(gasPerMessage).padStart(14)}`,
    )
  }
  return rows
}

async function main() {
  const { json, prefill } = parseArgs(process.argv.slice(2))
  announce(
    "bench:gas",
    "deploys the contracts on anvil and measures the gas of every Inbox and registry call",
    "about 1 minute",
  )
  const log = json ? (_: string) => {} : console.log
  const rows: Row[] = []
  const sets: SetRow[] = []
  for (const operators of OPERATOR_SETS) {
    const w = await createWorld({
      operators,
      operatorSalt: "bench-operator",
      thresholdBps: THRESHOLD_BPS,
      anvilArgs: ["--gas-limit", "30000000"],
    })
    try {
      rows.push(...(await measure(w, prefill, log)))
      sets.push(await measureSet(w, log))
    } finally {
      await w.anvil.stop()
    }
  }
  if (json) {
    console.log(JSON.stringify({ rows, operatorSets: sets }))
  } else {
    const target64 = rows.find((r) => r.batch === 64 && r.operators === 4)!
    const single = rows.find((r) => r.batch === 1 && r.operators === 4)!
    console.log(
      `\ntargets: batch 64 / 4 operators ${target64.gasPerMessage} <= 10000 ${target64.gasPerMessage <= 10_000 ? "ok" : "MISSED"}; ` +
        `single message / 4 operators ${single.gasPerMessage} <= 100000 ${single.gasPerMessage <= 100_000 ? "ok" : "MISSED"}`,
    )
  }
}

if (!process.argv.includes("--json")) {
  console.log(
    "Chorus gas report (anvil; equal stake, threshold 2/3, all operators sign; 32-byte bodies; no-op recipient)\n" +
      "operators  batch  commitGas  deliverGas  gasPerMessage",
  )
}
await main()
