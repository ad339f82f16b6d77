import { type Command, flags, requireString } from "../command.ts"
import { readDevnetFile } from "../devnet/devnet-file.ts"
import { setGates } from "../devnet/gates.ts"

/**
 * `chorus devnet open-recipients`: opens (or with `--close` closes) the
 * GatedRecipient of every chain of a running devnet, so that the messages
 * `chorus devnet --reverting` sent there can be retried.
 */
export const devnetOpenRecipients: Command = {
  path: ["devnet", "open-recipients"],
  summary:
    "open (or --close) the GatedRecipients of a running devnet, so their failed messages can be retried",
  usage: "devnet open-recipients --data-dir <dir> [--close]",
  details: [
    "  --data-dir <dir>   the --data-dir of a running `chorus devnet`: its devnet.json names each chain's RPC, its",
    "                     GatedRecipient and the anvil account that owns them (account 0)",
    "  --close            close the gates instead, so new messages to them fail again",
    "Every chain is checked before any transaction: if one does not answer (the devnet is not running) or is not",
    "the chain devnet.json describes, nothing is changed and the exit status is 1. A gate already in the asked",
    "state gets no transaction. Prints one line per chain with its transaction.",
  ].join("\n"),
  options: flags({ values: ["data-dir"], switches: ["close"] }),
  async run({ values, out }) {
    const dataDir = requireString(values, "data-dir")
    const open = values.close !== true
    const file = readDevnetFile(dataDir)
    const changes = await setGates(file, { open })
    const state = open ? "open" : "closed"
    for (const change of changes) {
      const where = `chain ${change.chainId}  GatedRecipient ${change.recipient}`
      out(
        change._tag === "changed"
          ? `${where}  ${open ? "opened" : "closed"}  tx ${change.transactionHash}  block ${change.blockNumber}`
          : `${where}  already ${state}, no transaction sent`,
      )
    }
    const sent = changes.filter((c) => c._tag === "changed").length
    out(
      `chorus devnet open-recipients: ${changes.length} GatedRecipient(s) ${state} (${sent} transaction(s)); ` +
        (open
          ? "their failed messages can be retried now, and new messages to them are delivered"
          : "new messages to them fail at the recipient again"),
    )
    return 0
  },
}
