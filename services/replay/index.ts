/**
 * Replay and diff: run a service's pure core over a window of its input log
 * into shadow topics (`shadow.<suffix>.<topic>`), never production ones, and
 * compare a shadow with what production wrote for the same inputs, event by
 * event, by deterministic id.
 *
 * `replayTargets` builds a service's cores from the config as production
 * does; `replay` folds them and writes the shadows and a manifest;
 * `diffShadowTopic` reads both sides and `diffEvents` compares them.
 * `ReplayWorkers` are threads a replay folds in, several partitions and
 * services at once, to the same shadows.
 *
 * @module
 */
export * from "./affected-messages.ts"
export * from "./diff.ts"
export * from "./diff-shadow.ts"
export * from "./manifest.ts"
export * from "./replay.ts"
export * from "./shadow-writer.ts"
export * from "./targets.ts"
export * from "./window.ts"
export * from "./workers.ts"
