/**
 * `npm run chaos -- --messages 10000 --seed <n> [--kafka <brokers>|local] [--faults …] [--json]`: a seeded
 * chaos run of the whole relay (`--help` says everything). Exit status 0 only when no message was lost,
 * duplicated or stranded; 1 otherwise or when the run could not be made; 2 for a bad command line.
 *
 * @module
 */
// kafkajs 2.2.4 sets timers Node 24 calls negative: harmless noise, silenced as bin/chorus.js does.
const emitWarning = process.emitWarning
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type
  if (type === "TimeoutNegativeWarning") return
  return (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest)
}) as typeof process.emitWarning

import { announce } from "../announce.ts"
import { ChaosUsageError, HELP, parseChaosArgs, USAGE } from "./options.ts"
import { runChaos } from "./run.ts"

const main = async (): Promise<number> => {
  let options: ReturnType<typeof parseChaosArgs>
  try {
    options = parseChaosArgs(process.argv.slice(2))
  } catch (error) {
    if (error instanceof ChaosUsageError) {
      console.error(`chaos: ${error.message}\nusage: ${USAGE}`)
      return 2
    }
    throw error
  }
  if (options === undefined) {
    console.log(HELP)
    return 0
  }
  announce(
    "chaos",
    "runs the relay under seeded faults (killed processes, broker and RPC faults, garbage records), then checks every message against the chains",
    "about 6 minutes for 500 messages",
  )
  try {
    return await runChaos(options, (line) => console.log(line))
  } catch (error) {
    console.error(
      `chaos: the run could not be made: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    )
    return 1
  }
}

// Exit at once: a kept-alive socket to a stopped chain must not hold the process open.
process.exit(await main())
