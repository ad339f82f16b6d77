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
