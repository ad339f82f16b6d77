/**
 * Kafka's murmur2 hash, bit for bit.
 *
 * Invariant: `murmur2(bytes)` equals `org.apache.kafka.common.utils.Utils.murmur2`
 * (and kafkajs's `DefaultPartitioner` hash) for every input, as a signed
 * 32-bit integer. Both bus adapters route keys through it, so a key lands on
 * the same partition whether the bus is Kafka or the embedded log.
 *
 * Java does this in `int` arithmetic; `Math.imul` and `| 0` reproduce its
 * wrap-around multiplication exactly, without the 64-bit `Long` kafkajs uses.
 *
 * @module
 */

const SEED = 0x9747b28c
const M = 0x5bd1e995
const R = 24

/**
 * The 32-bit murmur2 hash of some bytes, signed like Java's `int`.
 *
 * @example
 * ```ts
 * murmur2(new TextEncoder().encode("foobar")) // => -790332482
 * ```
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> R
    k = Math.imul(k, M)
    h = Math.imul(h, M)
    h ^= k
  }
  const tail = length & ~3
  const rest = length % 4
  // Java's switch falls through from case 3 to case 1; the ifs do the same.
  if (rest >= 3) h ^= data[tail + 2]! << 16
  if (rest >= 2) h ^= data[tail + 1]! << 8
  if (rest >= 1) {
    h ^= data[tail]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/**
 * Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which would
 * overflow on `-2^31` and disagree with Kafka for every negative hash).
 *
 * @example
 * ```ts
 * toPositive(-790332482) // => 1357151166
 * ```
 */
export function toPositive(value: number): number {
  return value & 0x7fffffff
}
