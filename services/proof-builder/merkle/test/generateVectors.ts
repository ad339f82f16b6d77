/**
 * Regenerates ../vectors.json from the naive reference implementation:
 *   npx node services/proof-builder/merkle/test/generateVectors.ts
 * The vectors are checked by the TypeScript tests and by the on-chain tests (MerkleHarness, Outbox).
 */
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { referenceLevels, referenceRangeProof, referenceRoot, testLeaf } from "./reference.ts"

const counts = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 257]
const ranges: [count: number, start: number, end: number][] = [
  [1, 0, 1],
  [2, 0, 2],
  [2, 1, 2],
  [3, 0, 1],
  [3, 1, 3],
  [5, 2, 4],
  [8, 0, 8],
  [9, 3, 7],
  [17, 16, 17],
  [33, 5, 30],
  [100, 37, 64],
  [100, 64, 100],
  [100, 0, 1],
  [257, 1, 256],
]

const maxCount = Math.max(...counts, ...ranges.map((r) => r[0]))
const leaves = Array.from({ length: maxCount }, (_, i) => testLeaf(i))
const vectors = {
  description:
    "Chorus lane tree: depth 32, keccak256, deposit-contract construction, no length mix-in. " +
    "leaves[i] = keccak256(abi.encode(uint256 i)). Range proofs use the compact edge format of getRangeProof.",
  zeroHashes: referenceLevels([]).zeros,
  leaves,
  roots: counts.map((count) => ({ count, root: referenceRoot(leaves.slice(0, count)) })),
  rangeProofs: ranges.map(([count, start, end]) => ({
    count,
    start,
    end,
    root: referenceRoot(leaves.slice(0, count)),
    siblings: referenceRangeProof(leaves.slice(0, count), start, end),
  })),
}
const out = join(dirname(fileURLToPath(import.meta.url)), "..", "vectors.json")
writeFileSync(out, `${JSON.stringify(vectors, null, 2)}\n`)
// Keep the file in the repository's formatting so regenerating it leaves `biome check` clean.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..")
spawnSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", out], { stdio: "ignore" })
console.log(`wrote ${out}`)
