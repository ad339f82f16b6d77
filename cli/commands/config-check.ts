import { loadConfig } from "../../services/config/index.ts"
import { type Command, flags, intFlag, requireString } from "../command.ts"
import { plaintextKeyIssues } from "../plaintext-keys.ts"

/**
 * `chorus config check --config <file>`: the config decoded (every problem of the file at once), then held
 * against the live chains (every problem of the chains at once). Exit 0: nothing to fix; 1: problems on the
 * chains; 2: the file itself is wrong.
 */
export const configCheck: Command = {
  path: ["config", "check"],
  summary:
    "check a config against the live chains: RPCs, chain ids, finality tags, contracts, operator set, keys, balances",
  usage: "config check --config <file> [--timeout <s>] [--json]",
  details: [
    "  --config <file>   the deployment's config. First decoded (every unknown key, bad address and bad value is",
    "                    named), then checked live: each RPC URL (the chains' and each operator's own) answers,",
    "                    serves its chain and answers the chain's finality rule (the finalized or safe tag); each",
    "                    Outbox, Inbox and the hub registry hold code; each operator is in the hub's set and each",
    "                    Inbox trusts a set; each key opens (env:, keystore); each submitter's account holds funds",
    "  --timeout <s>     how long one read may take before it counts as no answer (default 10)",
    "  --json            one JSON object per finding ({path, ok, message}), then a summary line",
    "Exit status: 0 when nothing is wrong, 1 when a live check failed, 2 when the file itself is wrong.",
  ].join("\n"),
  options: flags({ values: ["config", "timeout"], switches: ["json"] }),
  async run({ values, out }) {
    const file = requireString(values, "config")
    const timeoutMs = intFlag(values, "timeout", 10, 1) * 1_000
    const config = loadConfig(file)
    const { checkConfigLive } = await import("../config-check/live-checks.ts")
    const findings = [
      ...plaintextKeyIssues(config, file, false).map((issue) => ({ ...issue, ok: false })),
      ...(await checkConfigLive(config, { timeoutMs })),
    ]
    const problems = findings.filter((f) => !f.ok)
    for (const finding of findings) {
      out(
        values.json === true
          ? JSON.stringify(finding)
          : `${finding.ok ? "ok     " : "PROBLEM"}  ${finding.path}: ${finding.message}`,
      )
    }
    const summary = `${file}: ${problems.length === 0 ? "no problem found" : `${problems.length} problem(s)`} in ${findings.length} check(s)`
    out(
      values.json === true
        ? JSON.stringify({ file, problems: problems.length, checks: findings.length })
        : summary,
    )
    return problems.length === 0 ? 0 : 1
  },
}
