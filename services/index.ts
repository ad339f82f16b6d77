/**
 * The five relay services and what they are built from. Each service folder
 * holds a pure core (`decide`) and a thin runtime; `startServices` starts any
 * of them by name. docs/architecture.md draws the pipeline.
 *
 * @module
 */
export { startAttestationCollector } from "./attestation-collector/index.ts"
export { startChainWatcher } from "./chain-watcher/index.ts"
export * from "./config/index.ts"
export { startOperator } from "./operator/index.ts"
export { startProofBuilder } from "./proof-builder/index.ts"
export * from "./registry.ts"
export * from "./runtime/index.ts"
export { startSubmitter } from "./submitter/index.ts"
