/**
 * A polling loop's pause that `stop()` can cut short: a loop sleeps between ticks, and a stop must not wait out
 * the interval.
 *
 * @module
 */

/**
 * A sleep and the wake that ends the one in progress at once (a wake with none in progress does nothing).
 *
 * @example
 * ```ts
 * const pause = wakeableSleep()
 * while (!stopped) { await tick(); await pause.sleep(1_000) } // stop(): stopped = true; pause.wake()
 * ```
 */
export const wakeableSleep = (): { sleep(ms: number): Promise<void>; wake(): void } => {
  let wake: () => void = () => {}
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      }),
    wake: () => wake(),
  }
}
