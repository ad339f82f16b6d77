/**
 * The operator set rotated mid-traffic (issue 14): `npm run bench:rotation [-- --messages 150 --rate 6 --json]`.
 * Ends with one JSON line of its figures.
 *
 * It starts a devnet on the embedded log with a fifth operator running but not registered, sends traffic in all
 * six directions, and three seconds in runs the rotation of `chorus devnet --rotate` (`cli/devnet/rotation.ts`):
 * add that operator, remove one, change a weight and the threshold, eject an operator that equivocates. Each
 * change is waited for until every Inbox took it through the relay. Then it waits for every message to settle
 * and judges from the chains alone: what each recipient received against what was sent.
 *
 * Figures: `propagationBlocksP50` and `propagationSecondsP50` (from the hub calling the change final to the
 * Inbox taking it, in destination blocks and seconds; goal ≤ 2 blocks at p50), their maxima, `updateGas` (one
 * `updateOperatorSet`, min/p50/max over destinations and changes), `removedSignaturesAccepted` (signatures of an
 * operator removed or ejected, in commits an Inbox took after the change reached it; must be 0), `lost` (sent,
 * never observed), `stranded` (observed, never received), `duplicated` (received more than once); all three must
 * be 0.
 */
import { parseArgs } from "node:util"
import { startDevnet } from "../cli/devnet/devnet.ts"
import { receivedPayloads } from "../cli/devnet/recipients.ts"
import { describeRotation, rotate } from "../cli/devnet/rotation.ts"
import { quietLogger } from "../services/runtime/index.ts"
import { announce } from "./announce.ts"
import { positiveFlag } from "./positive-flag.ts"

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "150" },
    rate: { type: "string", default: "6" },
    json: { type: "boolean", default: false },
  },
})
announce(
  "bench:rotation",
  "rotates the operator set on the hub mid-traffic on a devnet and follows each change to every Inbox",
  "about 2 minutes",
)
const MESSAGES = positiveFlag("bench:rotation", "messages", values.messages)
const RATE = positiveFlag("bench:rotation", "rate", values.rate)
const log = values.json ? (line: string) => console.error(line) : console.log
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

log(`bench:rotation: a devnet, ${MESSAGES} messages at ${RATE}/s, the operator set rotated mid-traffic`)
const devnet = await startDevnet({ bus: { kind: "embedded" }, logger: quietLogger(), standby: 1 })
try {
  const sending = devnet.send({ messages: MESSAGES, rate: RATE })
  await sleep(3_000)
  const report = await rotate(devnet, { log })
  const sent = await sending
  const deadline = Date.now() + 120_000
  for (;;) {
    await devnet.poll()
    const { counts } = devnet.tracker.progress()
    if (counts.delivered + counts.failed >= sent.length || Date.now() > deadline) break
    await sleep(500)
  }
  const key = (m: { srcChainId: number; dstChainId: number; body: string }) =>
    `${m.srcChainId}->${m.dstChainId}:${m.body.toLowerCase()}`
  const received = new Map<string, number>()
  for (const r of await receivedPayloads(devnet.world)) received.set(key(r), (received.get(key(r)) ?? 0) + 1)
  const observed = new Set(
    devnet.tracker
      .messages()
      .filter((m) => m.messageId !== undefined)
      .map((m) => key({ srcChainId: m.sent.srcChainId, dstChainId: m.sent.dstChainId, body: m.sent.body })),
  )
  let lost = 0
  let stranded = 0
  let duplicated = 0
  for (const message of sent) {
    const times = received.get(key(message)) ?? 0
    if (times > 1) duplicated += times - 1
    if (times === 0) {
      if (observed.has(key(message))) stranded++
      else lost++
    }
  }
  log(`  ${describeRotation(report)}`)
  log(`  messages: sent ${sent.length}, lost ${lost}, stranded ${stranded}, duplicated ${duplicated}`)
  const ok = lost === 0 && stranded === 0 && duplicated === 0 && report.removedSignaturesAccepted === 0
  console.log(
    JSON.stringify({
      messages: sent.length,
      propagationBlocksP50: report.propagationBlocksP50,
      propagationBlocksMax: report.propagationBlocksMax,
      propagationSecondsP50: report.propagationSecondsP50,
      propagationSecondsMax: report.propagationSecondsMax,
      updateGas: report.updateGas,
      lost,
      duplicated,
      stranded,
      removedSignaturesAccepted: report.removedSignaturesAccepted,
      commitsChecked: report.commitsChecked,
      steps: report.steps.map((s) => ({
        name: s.name,
        epoch: s.epoch,
        blocks: s.propagations.map((p) => p.blocks),
        seconds: s.propagations.map((p) => p.seconds),
        gas: s.propagations.map((p) => p.gasUsed),
      })),
      ok,
    }),
  )
  process.exitCode = ok ? 0 : 1
} finally {
  await devnet.stop()
}
