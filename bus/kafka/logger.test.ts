import { logLevel } from "kafkajs"
import { describe, expect, it } from "vitest"
import { type KafkaBusLogger, kafkajsLogCreator } from "./logger.ts"

const recording = () => {
  const lines: Array<{
    level: string
    message: string
    fields: Readonly<Record<string, unknown>> | undefined
  }> = []
  const at = (level: string) => (message: string, fields?: Readonly<Record<string, unknown>>) =>
    lines.push({ level, message, fields })
  const logger: KafkaBusLogger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  }
  return { logger, lines }
}

const entry = (namespace: string, message: string, extra: Record<string, unknown> = {}) => ({
  namespace,
  level: logLevel.ERROR,
  label: "ERROR",
  log: { timestamp: "t", logger: "kafkajs", message, ...extra },
})

describe("kafkajs's lines, as a service logs them", () => {
  it("given a broker down and retried every second, logs each distinct line once a minute with how often it came, and never a stack", () => {
    const { logger, lines } = recording()
    let now = 0
    const log = kafkajsLogCreator(logger, () => false, { now: () => now })()
    for (let retry = 0; retry < 6; retry++) {
      now = retry * 1_000
      log(
        entry("Connection", "Connection error: connect ECONNREFUSED 127.0.0.1:1", {
          broker: "127.0.0.1:1",
          stack: "Error: connect ECONNREFUSED\n    at TCPConnectWrap…",
        }) as never,
      )
      log(
        entry("BrokerPool", `Failed to connect to seed broker (retry ${retry})`, {
          retryCount: retry,
        }) as never,
      )
    }
    expect(lines.map((l) => l.message)).toEqual([
      "kafkajs Connection: Connection error: connect ECONNREFUSED 127.0.0.1:1",
      "kafkajs BrokerPool: Failed to connect to seed broker (retry 0)",
    ])
    expect(lines.every((l) => l.fields?.stack === undefined)).toBe(true)
    now = 61_000
    log(entry("Connection", "Connection error: connect ECONNREFUSED 127.0.0.1:1") as never)
    expect(lines.at(-1)).toMatchObject({ level: "error", fields: { repeated: 5 } })
  })
})
