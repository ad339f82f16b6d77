/**
 * The bus contract suite and what an adapter provides to run it.
 *
 * @module
 */
export type { BusHarness } from "./harness.ts"
export { busContractSuite } from "./suite.ts"
export { makeGate, WaitTimeoutError, waitFor } from "./support.ts"
