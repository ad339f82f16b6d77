/**
 * Canonical JSON: object keys sorted, no whitespace. Two equal values always
 * give the same string, which is what makes event ids deterministic.
 *
 * Every record's id is derived from it, by its producer and again by every
 * consumer that checks the record, so it is built the fast way when it can
 * be: a value whose objects are plain and already hold their keys in sorted
 * order, with nothing JSON cannot write, is exactly what the engine's own
 * `JSON.stringify` writes. Records carry their payloads in that order (the
 * record codec writes them so), so a consumer's check walks the parsed value
 * once and lets the engine write it. Anything else is written key by sorted
 * key. Both give the same string for every value (`canonical-json.test.ts`).
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 * ```
 */
export const canonicalJson = (value: unknown): string =>
  inCanonicalOrder(value) ? JSON.stringify(value) : sortedJson(value)

/** Whether `JSON.stringify(value)` is already canonical: plain data, every object's keys in sorted order. */
const inCanonicalOrder = (value: unknown): boolean => {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true
    case "number":
      return Number.isFinite(value)
    case "object": {
      if (value === null) return true
      const prototype = Object.getPrototypeOf(value)
      if (Array.isArray(value)) {
        if (prototype !== Array.prototype) return false
        const items = value as ReadonlyArray<unknown>
        for (let i = 0; i < items.length; i++) if (!inCanonicalOrder(items[i])) return false
        return true
      }
      if (prototype !== Object.prototype && prototype !== null) return false
      const record = value as Record<string, unknown>
      let previous: string | undefined
      for (const key of Object.keys(record)) {
        if (previous !== undefined && !(previous < key)) return false
        if (!inCanonicalOrder(record[key])) return false
        previous = key
      }
      return true
    }
    default:
      return false
  }
}

/** Canonical JSON written key by sorted key, in one pass; it throws for what has no JSON form. */
const sortedJson = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} has no JSON form`)
      return JSON.stringify(value)
    case "boolean":
      return value ? "true" : "false"
    case "object": {
      if (value === null) return "null"
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + sortedJson(value[i])
        return `${out}]`
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).sort()
      let out = "{"
      let first = true
      for (const key of keys) {
        const item = record[key]
        if (item === undefined) continue
        out += `${first ? "" : ","}${JSON.stringify(key)}:${sortedJson(item)}`
        first = false
      }
      return `${out}}`
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form; encode it first`)
  }
}
