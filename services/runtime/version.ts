/**
 * Chorus's version, read once from the package's `package.json`: the one place it is written. Every service stamps
 * it on what it produces (`producerOf`), and `chorus --version` prints it.
 *
 * @module
 */
import { createRequire } from "node:module"

/**
 * The version in `package.json`.
 *
 * @example
 * ```ts
 * CHORUS_VERSION // "0.4.0"
 * ```
 */
export const CHORUS_VERSION: string = (
  createRequire(import.meta.url)("../../package.json") as { version: string }
).version
