/**
 * keccak256 in WebAssembly (hash-wasm), for the hashes Chorus computes per
 * record and per message: event ids, Merkle nodes, message ids.
 *
 * viem's `keccak256` (pure JS, @noble/hashes) cost 19% of the relay's CPU
 * (issue 13); this one is 10–16× faster on 64- and 500-byte inputs. It is
 * held to viem's answers by `keccak.test.ts`.
 *
 * Invariants:
 * - One hasher, used synchronously from `init` to `digest`: JavaScript runs
 *   one call at a time, so no two hashes ever interleave on it.
 * - The module loads the WebAssembly once, with a top-level await; importers
 *   are ESM and wait for it like any other import.
 *
 * @module
 */
import { createKeccak } from "hash-wasm"
import type { Hex } from "viem"

const hasher = await createKeccak(256)

const HEX = /^0x([0-9a-fA-F]{2})*$/

const bytesOf = (value: Uint8Array | Hex): Uint8Array => {
  if (typeof value !== "string") return value
  if (!HEX.test(value))
    throw new TypeError(`keccak256: ${JSON.stringify(value.slice(0, 20))}… is not even-length 0x hex`)
  return Buffer.from(value.slice(2), "hex")
}

/**
 * keccak256 of bytes or 0x hex, as 0x hex (default) or bytes: the same
 * signature and answers as viem's.
 *
 * @example
 * ```ts
 * keccak256(new Uint8Array()) // "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
 * keccak256("0x01", "bytes") // Uint8Array(32)
 * ```
 */
export function keccak256(value: Uint8Array | Hex, to?: "hex"): Hex
export function keccak256(value: Uint8Array | Hex, to: "bytes"): Uint8Array
export function keccak256(value: Uint8Array | Hex, to: "hex" | "bytes" = "hex"): Hex | Uint8Array {
  hasher.init()
  hasher.update(bytesOf(value))
  return to === "bytes" ? hasher.digest("binary") : (`0x${hasher.digest("hex")}` as Hex)
}

/** Where a text is written as UTF-8 to be hashed: one buffer, reused, so hashing a text allocates nothing. */
const scratch = Buffer.allocUnsafeSlow(1 << 16)

/**
 * keccak256 of a text's UTF-8 bytes, as 0x hex: `keccak256(new TextEncoder().encode(text))`, without
 * allocating the bytes (every record's id is hashed from its canonical JSON text; the allocations were 8% of
 * a replay's CPU).
 *
 * @example
 * ```ts
 * keccak256OfText("") // "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
 * ```
 */
export const keccak256OfText = (text: string): Hex => {
  hasher.init()
  // One UTF-16 unit is at most three UTF-8 bytes, so a text this short always fits whole.
  if (text.length * 3 <= scratch.length) hasher.update(scratch.subarray(0, scratch.write(text, "utf8")))
  else hasher.update(Buffer.from(text, "utf8"))
  return `0x${hasher.digest("hex")}` as Hex
}
