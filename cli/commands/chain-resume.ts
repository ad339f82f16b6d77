/**
 * `chorus chain resume <chainId> --from <block> --hash <hash>`: lifts a
 * halted source chain's quarantine from a block a person trusts below the
 * rewrite, and records on the log that they did.
 *
 * Pipeline: the arguments → the config (`--config`, or a devnet's
 * `config.json` beside `--data-dir`): the chain must be configured → the
 * halts topic, read through the deployment's producer policy: the chain
 * must be halted, its last `ChainHalted` not lifted → `--from` must be below
 * the halt's block → the chain's RPC (the config's URLs): block `--from`
 * must be final there and carry `--hash` → each lane's Outbox count at that
 * block (`Outbox.count(dst)` for every other configured chain) → one
 * `ChainResumed` on `chorus.chain.halts`, keyed by the chain, caused by the
 * halt it lifts, naming who ran it (`user@host`) and why (`--reason`).
 *
 * Invariants:
 * - It writes nothing unless every check passed: a refusal names what is
 *   wrong and where, and exits 1.
 * - On an authenticating bus it signs as the `chain-resume` tool (its key
 *   from the config's `bus.authentication.producers`), the only producer
 *   whose `ChainResumed` any service takes (`services/runtime/chain-halts.ts`).
 * - The trusted block and the counts are read from the chain, never taken
 *   from the log: the watcher reads its hash again before it reads on, and
 *   the submitters trust a checkpoint past those counts only once it is
 *   attested after the resume.
 *
 * @module
 */
import { publishEvents } from "../../bus/events/index.ts"
import type { BusPort } from "../../bus/port.ts"
import { makeChainAccess, redactUrl } from "../../chains/index.ts"
import {
  BlockRef,
  Bytes32,
  ChainId,
  ChainResumed,
  makeEnvelope,
  Producer,
  ResumedLaneCount,
  toAddress,
} from "../../schemas/index.ts"
import {
  CHAIN_RESUME_WRITER,
  CHORUS_VERSION,
  chainHaltsView,
  laneCountsAt,
  quietLogger,
} from "../../services/runtime/index.ts"
import { TOPICS } from "../../topology/index.ts"
import { TRUST_DETAILS, trustedBus, trustedConfig, trustOptions } from "../bus-trust.ts"
import { type Command, type CommandInput, flags, UsageError } from "../command.ts"
import { BUS_DETAILS, BUS_USAGE, busOptions, openBusFromFlags } from "../open-bus.ts"
import { whoAmI } from "../who-am-i.ts"

const positiveInt = (raw: string | undefined, what: string, min: number): number => {
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min)
    throw new UsageError(`${what} must be an integer >= ${min}, got ${JSON.stringify(raw ?? "")}`)
  return Number(raw)
}

/** The checked arguments. */
const argumentsOf = (input: Pick<CommandInput, "values" | "positionals">) => {
  const { values, positionals } = input
  if (positionals[0] === undefined) throw new UsageError("give the chain id to resume")
  const chainId = positiveInt(positionals[0], "<chainId>", 1)
  const from = positiveInt(typeof values.from === "string" ? values.from : undefined, "--from", 0)
  const hash = values.hash
  if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash))
    throw new UsageError(
      `--hash must be the trusted block's hash (0x followed by 64 hex digits), got ${JSON.stringify(hash ?? "")}`,
    )
  const reason = typeof values.reason === "string" && values.reason.trim() !== "" ? values.reason : null
  return { chainId, from, hash: hash.toLowerCase(), reason }
}

/** Where the config came from, for messages. */
const configLabel = (values: CommandInput["values"]): string =>
  typeof values.config === "string"
    ? values.config
    : `the config.json beside --data-dir ${values["data-dir"]}`

/** `chorus chain resume`: lifts a halted chain from a trusted block (see the module doc). */
export const chainResume: Command = {
  path: ["chain", "resume"],
  summary:
    "lift a halted source chain's quarantine from a trusted block below the rewrite, recorded on the log with who ran it",
  usage: `chain resume <chainId> --from <block> --hash <hash> ${BUS_USAGE} [--config <file>] [--reason <text>]`,
  details: [
    BUS_DETAILS,
    TRUST_DETAILS,
    "                           (it also gives the chain's RPC URLs and Outbox, which are read)",
    "  --from <block>           the trusted block: final, below the block the watcher found rewritten, and one",
    "                           the chain's RPCs agree on; the watcher reads the chain again from the next one",
    "  --hash <hash>            that block's hash, as you checked it (the chain's RPC must show the same)",
    '  --reason <text>          why, recorded with the resume (e.g. "fork on rpc-a; rpc-b and rpc-c agree")',
    "",
    "It refuses, writing nothing (exit 1), a chain the config does not name, a chain not halted on the log",
    "(or whose last halt was already lifted), a --from at or above the halt's block, and a block the chain's",
    "RPC does not show final with --hash. Otherwise it reads each lane's Outbox count at the block and writes",
    "ChainResumed on chorus.chain.halts, naming the halt it lifts, the block, the counts, who ran it and why.",
    "Then: the chain's watcher (started again) checks the block's hash on its RPC and reads on from the next",
    "block; operators sign the chain again; submitters deliver its messages again, but a checkpoint past a",
    "lane's count at the trusted block only once it is attested after the resume. On an authenticating bus it",
    'signs as the chain-resume tool: the config lists its key ({ "service": "chain-resume", "privateKey": … }).',
  ].join("\n"),
  options: { ...busOptions, ...trustOptions, ...flags({ values: ["from", "hash", "reason"] }) },
  positionals: ["chainId"],
  async run({ values, positionals, out, err }) {
    const { chainId, from, hash, reason } = argumentsOf({ values, positionals })
    const config = trustedConfig(values)
    if (config === undefined)
      throw new UsageError(
        "give --config <file>: the chain's RPC URLs and Outbox, and the bus's producers, come from it",
      )
    const refuse = (text: string) => {
      err(`refused: ${text}; nothing was written.`)
      return 1
    }
    const chain = config.chains.find((c) => c.chainId === chainId)
    if (chain === undefined)
      return refuse(
        `chain ${chainId} is not configured in ${configLabel(values)} (its chains: ${config.chains.map((c) => c.chainId).join(", ")})`,
      )

    const by = whoAmI()
    const opened = await openBusFromFlags(values)
    let bus: BusPort = opened
    try {
      bus = trustedBus(opened, values, { service: CHAIN_RESUME_WRITER, instance: by })
      if (bus === opened)
        err(
          "warning: this bus does not authenticate records (no bus.authentication in the config): anyone who can write chorus.chain.halts can halt or resume a chain. See docs/security.md.",
        )
      const halts = chainHaltsView(bus, quietLogger())
      await halts.refresh()
      const status = halts.statusOf(chainId)
      if (status === null)
        return refuse(
          `chain ${chainId} is not halted on the log (${TOPICS.chainHalts.name} holds no ChainHalted from its watcher), so there is nothing to resume`,
        )
      if (status.kind === "resumed") {
        const { resume } = status
        return refuse(
          `chain ${chainId} is not halted: its last halt (block ${resume.halt.blockNumber}) was lifted by ${resume.by} at ${new Date(resume.at).toISOString()} from block ${resume.block.number} (ChainResumed ${resume.eventId})`,
        )
      }
      const { halt } = status
      if (from >= halt.blockNumber)
        return refuse(
          `--from ${from} is at or above block ${halt.blockNumber}, where chain ${chainId}'s watcher found the chain rewritten (${halt.reason}): the trusted block must be below the rewrite`,
        )

      const reader = makeChainAccess(config).reader(chainId)
      const rpc = chain.rpcUrls.map(redactUrl).join(", ")
      const finalized = await reader.finalizedHead()
      if (finalized === null || finalized.number < from)
        return refuse(
          `block ${from} is not final on chain ${chainId}'s RPC (${rpc}): its finalized head is ${finalized === null ? "none yet" : `block ${finalized.number}`}; a trusted block must be final`,
        )
      const shown = (await reader.header(from)).ref
      if (shown.hash !== hash)
        return refuse(
          `chain ${chainId}'s RPC (${rpc}) shows block ${from} as ${shown.hash}, not ${hash} (--hash): check which RPC served which chain, and give the hash of a block they agree on`,
        )
      // Every other configured chain is a destination of this one's Outbox.
      const destinations = config.chains.filter((c) => c.chainId !== chainId).map((c) => c.chainId)
      const countsAt = await laneCountsAt(reader, toAddress(chain.outbox), destinations, from)
      const lanes = [...countsAt].map(
        ([dstChainId, count]) => new ResumedLaneCount({ dstChainId: ChainId.make(dstChainId), count }),
      )

      const resumed = new ChainResumed({
        chainId: ChainId.make(chainId),
        outbox: toAddress(chain.outbox),
        block: new BlockRef({ number: from, hash: Bytes32.make(hash) }),
        lanes,
        halt: halt.eventId,
        by,
        reason,
      })
      const envelope = makeEnvelope(resumed, {
        producer: new Producer({ service: CHAIN_RESUME_WRITER, instance: by, version: CHORUS_VERSION }),
        causationId: halt.eventId,
        time: new Date(),
      })
      await publishEvents(bus, [envelope])

      const counts = lanes.map((l) => `${chainId} → ${l.dstChainId}: ${l.count}`).join(", ") || "none"
      out(
        `resumed: ChainResumed ${envelope.id} on ${TOPICS.chainHalts.name} lifts the halt of chain ${chainId} (ChainHalted ${halt.eventId}, block ${halt.blockNumber}: ${halt.reason})`,
      )
      out(`  trusted block ${from} (${hash}), final on ${rpc}`)
      out(`  lane counts there: ${counts}`)
      out(`  by ${by}${reason === null ? "" : `: ${reason}`}`)
      out("next:")
      out(
        `  - start chain ${chainId}'s watcher again (chorus run chain-watcher --instance ${chainId} …): it checks block ${from} on its RPC and reads the chain from block ${from + 1}`,
      )
      out(
        "  - operators sign its checkpoints again; submitters deliver its messages again, but a checkpoint past a lane's count above only once it is attested after this resume",
      )
      out(
        "  - follow it with `chorus messages --status quarantined` (none of this chain left) and `chorus trace <messageId>` (the resume is on the timeline)",
      )
      return 0
    } finally {
      await opened.close()
    }
  },
}
