import { producerPolicy, verifyLog } from "../../bus/authentication/index.ts"
import { DEAD_LETTER_TOPIC } from "../../bus/dead-letter.ts"
import { busIdentitiesOf } from "../../services/registry.ts"
import { ALL_TOPICS } from "../../topology/index.ts"
import { TRUST_DETAILS, trustedConfig, trustOptions } from "../bus-trust.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { BUS_DETAILS, BUS_USAGE, busOptions, openBusFromFlags } from "../open-bus.ts"

/** `chorus verify-log`: checks every record of a log against the config's producers. */
export const verifyLogCommand: Command = {
  path: ["verify-log"],
  summary: "check that every record of a log was written by a producer the config trusts (tamper evidence)",
  usage: `verify-log ${BUS_USAGE} [--config <file>] [--limit <n>] [--json]`,
  details: [
    BUS_DETAILS,
    TRUST_DETAILS,
    "  --limit <n>              list at most this many failing records (default 1000); the counts are always whole",
    "  --json                   one JSON object: per-topic counts, the failing records, the unsigned ranges",
    "",
    "Every record of every declared topic is held to the config's bus.authentication: signed (chorus-signer,",
    "chorus-signature), by a listed key, on a topic that key's service writes, under the producer it claims.",
    "Failures are listed by topic, partition and offset with the reason: unsigned, malformed-signature,",
    "bad-signature (altered, moved or forged), unknown-signer, topic-not-allowed, producer-mismatch,",
    "misplaced (a signed record copied to another partition), owner-mismatch (about another instance). Unsigned",
    "records (a log written before authentication) are listed as offset ranges. Exit status: 0 when every",
    "record stands, 1 otherwise, 2 usage.",
  ].join("\n"),
  options: { ...busOptions, ...trustOptions, ...flags({ values: ["limit"], switches: ["json"] }) },
  async run({ values, out }) {
    const limit = values.limit === undefined ? 1_000 : Number(values.limit)
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new UsageError(`--limit: ${JSON.stringify(values.limit)} is not a whole number of records`)
    }
    const config = trustedConfig(values)
    if (config === undefined) {
      throw new UsageError(
        "give --config <file>: the producers a log is checked against are in its bus.authentication",
      )
    }
    const { enabled, grants } = busIdentitiesOf(config)
    if (!enabled) {
      throw new UsageError(
        "the config has no bus.authentication, so it names no producer to check the log against; add one (docs/security.md)",
      )
    }
    const bus = await openBusFromFlags(values)
    try {
      const report = await verifyLog(
        bus,
        producerPolicy(grants, [DEAD_LETTER_TOPIC]),
        ALL_TOPICS.map((t) => t.name),
        { limit },
      )
      if (values.json === true) {
        out(JSON.stringify(report))
        return report.clean ? 0 : 1
      }
      for (const tally of report.topics) {
        const failed = tally.records - tally.authenticated
        const reasons = Object.entries(tally.failures)
          .filter(([, n]) => n > 0)
          .map(([reason, n]) => `${n} ${reason}`)
        out(
          `${tally.topic}  ${tally.records} records  ${tally.authenticated} authenticated${failed > 0 ? `  ${reasons.join(", ")}` : ""}`,
        )
      }
      for (const topic of report.missing) out(`${topic}  missing (not in this log)`)
      for (const finding of report.findings) {
        out(
          `  ${finding.reason}  ${finding.topic} partition ${finding.partition} offset ${finding.offset}: ${finding.detail}`,
        )
      }
      if (report.findingsLeftOut > 0)
        out(`  … and ${report.findingsLeftOut} more (raise --limit to list them)`)
      for (const range of report.unsigned) {
        out(
          `  unsigned  ${range.topic} partition ${range.partition} offsets ${range.from}..${range.to - 1} (${range.to - range.from} record(s))`,
        )
      }
      const total = report.topics.reduce((sum, t) => sum + t.records, 0)
      const bad = report.topics.reduce((sum, t) => sum + t.records - t.authenticated, 0)
      out(
        report.clean
          ? `All ${total} records were written by producers the config trusts.`
          : `${bad} of ${total} records were not written by a producer the config trusts.`,
      )
      return report.clean ? 0 : 1
    } finally {
      await bus.close()
    }
  },
}
