import type { BusPort } from "../bus/port.ts"
import { type CatchUpResult, catchUp } from "../services/auditor/catch-up.ts"
import { auditIndexPath } from "../services/auditor/index-path.ts"
import { AuditStore } from "../services/auditor/index-store.ts"
import { type CommandInput, flags, type Options, UsageError } from "./command.ts"
import { busOptions, embeddedDataDir, openBusFromFlags, parseBrokers } from "./open-bus.ts"
import { TRUST_DETAILS, trustedConfigFile, trustOptions } from "./trust-flags.ts"

/** The flags of every command that reads the audit index. */
export const auditOptions: Options = { ...busOptions, ...trustOptions, ...flags({ values: ["index"] }) }

export const AUDIT_DETAILS = [
  "  --index <file>           the audit index (SQLite, derived from the log; delete it to rebuild). Default:",
  "                           <data-dir>/audit/index.sqlite, or ~/.cache/chorus/audit/kafka-<brokers>.sqlite",
  TRUST_DETAILS,
].join("\n")

export interface OpenedAudit {
  readonly bus: BusPort
  readonly store: AuditStore
  readonly path: string
  readonly caughtUp: CatchUpResult
  close(): Promise<void>
}

/**
 * Opens the bus and the audit index the flags name, and brings the index up
 * to the log before any question is answered.
 *
 * @example
 * ```ts
 * const audit = await openAudit(input.values)
 * try { audit.store.message(id) } finally { await audit.close() }
 * ```
 */
export const openAudit = async (
  values: CommandInput["values"],
  warn?: (line: string) => void,
  signAs?: { readonly service: string; readonly instance: string },
): Promise<OpenedAudit> => {
  const opened = await openBusFromFlags(values)
  let bus: BusPort
  try {
    // The config and the producer policy load only when there is a config to trust (issue 13).
    bus =
      trustedConfigFile(values) === undefined
        ? opened
        : (await import("./bus-trust.ts")).trustedBus(opened, values, signAs)
  } catch (error) {
    await opened.close()
    throw error
  }
  if (bus === opened && warn !== undefined)
    warn(
      "warning: records are not checked against the deployment's producers (no --config with bus.authentication): a forged record would be read as fact. Pass --config <file>.",
    )
  const dataDir = typeof values["data-dir"] === "string" ? embeddedDataDir(values["data-dir"]) : undefined
  const path = auditIndexPath({
    ...(typeof values.index === "string" ? { index: values.index } : {}),
    ...(dataDir !== undefined ? { dataDir } : {}),
    ...(typeof values.brokers === "string" ? { brokers: parseBrokers(values.brokers) } : {}),
  })
  let store: AuditStore | undefined
  try {
    store = AuditStore.open(path)
    const caughtUp = await catchUp(bus, store)
    if (caughtUp.missing.length > 0 && warn !== undefined)
      warn(
        `warning: the log has no ${caughtUp.missing.join(", ")} (written by an older Chorus); those topics are not in any answer. \`chorus topics create\` adds them.`,
      )
    const index = store
    return {
      bus,
      store: index,
      path,
      caughtUp,
      close: async () => {
        index.close()
        await opened.close()
      },
    }
  } catch (error) {
    store?.close()
    await opened.close()
    throw error
  }
}

/** A warning line for records in the log that are not Chorus events, if there are any. */
export const unreadableWarning = (store: AuditStore): string | undefined => {
  const unreadable = store.unreadable()
  if (unreadable.length === 0) return undefined
  const first = unreadable[0]!
  return `warning: ${unreadable.length} record(s) in the log are not Chorus events, or no trusted producer wrote them, and are not in any timeline (first: ${first.topic} partition ${first.partition} offset ${first.offset}: ${first.error})`
}

/**
 * The `<messageId>` argument of an audit command, checked: 0x and 64 hex digits.
 *
 * @example
 * ```ts
 * const id = messageIdArgument(positionals, "trace")
 * ```
 */
export const messageIdArgument = (positionals: ReadonlyArray<string>, verb: string): string => {
  const id = positionals[0]
  if (id === undefined) throw new UsageError(`give the message id to ${verb} (0x followed by 64 hex digits)`)
  if (!/^0x[0-9a-fA-F]{64}$/.test(id))
    throw new UsageError(`${JSON.stringify(id)} is not a message id (0x followed by 64 hex digits)`)
  return id
}
