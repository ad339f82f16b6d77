/**
 * What a benchmark says before it starts and after it ends, on stderr (its
 * stdout ends with one JSON line of figures, and stays that way): what it
 * does and about how long that takes on a 2-core machine, then how long it
 * really took.
 *
 * @module
 */

const minutesAndSeconds = (ms: number) => {
  const s = Math.round(ms / 1_000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`
}

/**
 * Announces a benchmark; at exit, says how long it took.
 *
 * @example
 * ```ts
 * announce("bench:trace", "builds a 100,000-message log and its audit index, then times traces", "about 3 minutes")
 * ```
 */
export const announce = (name: string, what: string, takes: string): void => {
  const started = Date.now()
  process.stderr.write(`${name}: ${what}; ${takes} on a 2-core machine.\n`)
  process.on("exit", (code) => {
    process.stderr.write(
      `${name}: ${code === 0 ? "done" : `ended (exit ${code})`} in ${minutesAndSeconds(Date.now() - started)}\n`,
    )
  })
}
