import { bytesToHex, type Hex, keccak256 } from "viem"

/** Depth of every lane tree. */
export const TREE_DEPTH = 32

/** The deposit-contract construction keeps one slot free: at most 2^32 - 1 leaves. */
export const MAX_LEAVES = 2 ** 32 - 1

function computeZeroHashes(): Uint8Array[] {
  const zeros: Uint8Array[] = [new Uint8Array(32)]
  for (let h = 1; h <= TREE_DEPTH; h++) {
    const pair = new Uint8Array(64)
    pair.set(zeros[h - 1]!, 0)
    pair.set(zeros[h - 1]!, 32)
    zeros.push(keccak256(pair, "bytes"))
  }
  return zeros
}

/** @internal Zero-subtree hashes as bytes: `Z[0] = 0`, `Z[h + 1] = keccak256(Z[h] ++ Z[h])`. */
export const ZERO_HASH_BYTES: readonly Uint8Array[] = computeZeroHashes()

/** Zero-subtree hashes for levels 0..32 (`ZERO_HASHES[32]` is the root of the empty tree). */
export const ZERO_HASHES: readonly Hex[] = ZERO_HASH_BYTES.map((z) => bytesToHex(z))
