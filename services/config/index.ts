/**
 * The configuration file: its schema, and loading that lists every problem by path.
 *
 * @module
 */
export * from "./identities.ts"
export * from "./load-config.ts"
export * from "./schema.ts"
