/**
 * The bus contract suite: one set of tests every adapter of the port
 * (`../port.ts`) must pass. Each test makes its own uniquely named topics and
 * groups, so the suite can run on a shared Kafka cluster and leave it usable.
 *
 * @module
 */
import { afterAll, afterEach, describe } from "vitest"
import { deadLettersContract } from "./dead-letters.ts"
import { deliveryContract } from "./delivery.ts"
import { groupsContract } from "./groups.ts"
import type { BusHarness } from "./harness.ts"
import { positionsContract } from "./positions.ts"
import { publishingContract } from "./publishing.ts"
import { contractContext } from "./support.ts"

/**
 * Registers the contract tests (vitest `describe` blocks) for one adapter.
 *
 * @example
 * ```ts
 * // bus/embedded/embedded.test.ts
 * busContractSuite("embedded", {
 *   open: async () => openEmbeddedBus({ dataDir: await mkdtemp(join(tmpdir(), "bus-")) }),
 *   reopen: async (bus) => openEmbeddedBus({ dataDir: (bus as EmbeddedBus).dataDir }),
 *   crash: (bus) => (bus as EmbeddedBus).crash(),
 * })
 * ```
 */
export function busContractSuite(name: string, harness: BusHarness): void {
  describe(`bus contract: ${name}`, () => {
    const ctx = contractContext(harness)
    afterEach(() => ctx.cleanup())
    afterAll(async () => {
      await ctx.cleanup()
      await harness.dispose?.()
    })
    publishingContract(ctx)
    deliveryContract(ctx)
    groupsContract(ctx)
    positionsContract(ctx)
    deadLettersContract(ctx)
  })
}
