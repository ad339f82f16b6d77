import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canonicalJson } from "./canonical-json.ts"

/** The definition, written the plainest way: what `canonicalJson` must give for every value. */
const reference = (value: unknown): string => {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("no JSON form")
    if (
      typeof value !== "string" &&
      typeof value !== "number" &&
      typeof value !== "boolean" &&
      value !== null
    )
      throw new TypeError("no JSON form")
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(reference).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(",")}}`
}

/** The same value with every object's keys in reverse order, or in sorted order (as records carry them). */
const reordered = (value: unknown, order: "reverse" | "sorted") =>
  JSON.parse(JSON.stringify(value), (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          order === "reverse"
            ? Object.entries(v).reverse()
            : Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  )

describe("canonicalJson", () => {
  it("sorts keys at every depth", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    )
  })

  it("gives the definition's string for every JSON value, whatever its keys' order, and parses back to it", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = reference(value)
        expect(canonicalJson(value)).toBe(text)
        expect(canonicalJson(reordered(value, "reverse"))).toBe(text)
        expect(canonicalJson(reordered(value, "sorted"))).toBe(text)
        expect(canonicalJson(JSON.parse(text))).toBe(text)
      }),
      { numRuns: 500 },
    )
  })

  it("gives the definition's string where JSON.stringify alone would not: integer keys, undefined, objects that are not plain", () => {
    const values: unknown[] = [
      { 10: "a", 9: "b" }, // the engine keeps integer keys in numeric order, canonical order is by string
      { a: 1, b: undefined, c: 2 },
      { b: -0, a: "é\u2028\u{1f600}", "": [1.5e300, 5e-324] },
      Object.assign(Object.create(null), { b: 1, a: 2 }),
      { a: new Date(0) }, // no own keys: "{}", as the definition writes it, not the date's toJSON
      { a: { toJSON: "not a function" } },
      [{ z: 1, y: [{ x: 1, w: 2 }] }],
      Object.assign(Object.create(Array.prototype), { b: 1, a: 2 }), // an object that inherits from arrays
    ]
    for (const value of values) expect(canonicalJson(value)).toBe(reference(value))
  })

  it("refuses values with no JSON form, at any depth", () => {
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint has no JSON form/)
    expect(() => canonicalJson(Number.NaN)).toThrow(/no JSON form/)
    expect(() => canonicalJson({ a: [1, Number.POSITIVE_INFINITY] })).toThrow(/no JSON form/)
    expect(() => canonicalJson({ a: () => 1 })).toThrow(/function has no JSON form/)
    expect(() => canonicalJson([undefined])).toThrow(/undefined has no JSON form/)
  })
})
