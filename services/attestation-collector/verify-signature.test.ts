import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { getCheckpointDomain, hashCheckpoint } from "../../contracts/index.ts"
import { Checkpoint } from "../../schemas/index.ts"
import * as arb from "../../schemas/testing/arbitraries.ts"
import { testCheckpoint } from "../../test/fixtures/checkpoint.ts"
import { checkpointDigest } from "./verify-signature.ts"

const domainArb = fc
  .record({ registryChainId: fc.integer({ min: 1, max: 2 ** 40 }), registry: arb.address })
  .map(({ registryChainId, registry }) =>
    getCheckpointDomain({ registryChainId, registry: registry as `0x${string}` }),
  )

const signable = fc
  .record({
    srcChainId: arb.chainId,
    outbox: arb.address,
    dstChainId: arb.chainId,
    root: arb.bytes32,
    count: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  })
  .map((fields) => new Checkpoint(fields))

describe("the checkpoint digest the collector computes", () => {
  it("given any checkpoint an operator can sign and any network's domain, when its digest is computed, then it is the EIP-712 digest hashCheckpoint gives (what Inbox.checkpointDigest gives)", () => {
    fc.assert(
      fc.property(domainArb, signable, fc.integer({ min: 0, max: 2 ** 32 }), (domain, checkpoint, epoch) => {
        const expected = hashCheckpoint({
          domain,
          checkpoint: {
            srcChainId: BigInt(checkpoint.srcChainId),
            outbox: checkpoint.outbox as `0x${string}`,
            dstChainId: BigInt(checkpoint.dstChainId),
            root: checkpoint.root as `0x${string}`,
            count: checkpoint.count,
            epoch: BigInt(epoch),
          },
        }).toLowerCase()
        expect(checkpointDigest(domain, checkpoint, epoch)).toBe(expected)
      }),
      { numRuns: 300 },
    )
  })

  it("given a forged checkpoint whose count no uint32 holds, when its digest is computed, then it is a digest (nobody can sign it), not a throw that would stall the partition", () => {
    const domain = getCheckpointDomain({
      registryChainId: 901,
      registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    })
    expect(checkpointDigest(domain, testCheckpoint({ count: 2 ** 33 }), 2 ** 70)).toMatch(/^0x[0-9a-f]{64}$/)
  })
})
