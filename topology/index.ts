/**
 * The topology: every topic and the service graph, declared once.
 *
 * @module
 */

export * from "./render.ts"
export * from "./services.ts"
export * from "./topics.ts"
