/**
 * A read that many callers may ask for at once (scrapers, probes): run one at a time, and its answer served
 * again while it is fresh, so a fast poller costs the RPCs and the bus no more than a slow one.
 *
 * @example
 * ```ts
 * const ready = freshOnce(1_000, () => readiness(checks))
 * await Promise.all([ready(), ready()]) // one readiness run
 * ```
 */
export const freshOnce = <T>(freshMs: number, read: () => Promise<T>): (() => Promise<T>) => {
  let last: { readonly at: number; readonly answer: T } | undefined
  let running: Promise<T> | undefined
  return () => {
    if (last !== undefined && Date.now() - last.at < freshMs) return Promise.resolve(last.answer)
    running ??= read()
      .then((answer) => {
        last = { at: Date.now(), answer }
        return answer
      })
      .finally(() => {
        running = undefined
      })
    return running
  }
}
