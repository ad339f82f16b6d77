const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Parses a duration such as `90s`, `2m`, `1h` or `500ms` into milliseconds;
 * `undefined` when the text is not one.
 *
 * @example
 * ```ts
 * parseDuration("2m") // 120000
 * ```
 */
export const parseDuration = (text: string): number | undefined => {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim())
  if (match === null) return undefined
  return Math.round(Number(match[1]) * UNITS[match[2]!]!)
}

/**
 * A point in time written as an ISO time or as a duration ago (`1h`: an hour before `now`), in ms; `undefined`
 * when the text is neither.
 *
 * @example
 * ```ts
 * timeOrAgo("1h", Date.now()) // an hour ago
 * timeOrAgo("2026-12-06T00:00:00Z", Date.now()) // 1796515200000
 * ```
 */
export const timeOrAgo = (text: string, now: number): number | undefined => {
  const ago = parseDuration(text)
  if (ago !== undefined) return now - ago
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : at
}
