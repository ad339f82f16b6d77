// The life of a test file's world under vitest: created once before its tests, its own deployments kept in the
// snapshot, reverted after each test, stopped after the file.
import { afterAll, afterEach, beforeAll } from "vitest"
import { createWorld, type World, type WorldOptions } from "./world.ts"

/**
 * Registers the hooks; `ready` receives the world once deployed and may deploy more (kept for every test).
 * @example
 * let w: World
 * let gated: Address
 * useWorld({}, async (world) => {
 *   w = world
 *   gated = await deployGatedRecipient(w.clients, { inbox: w.inbox })
 * })
 */
export function useWorld(options: WorldOptions, ready: (world: World) => void | Promise<void>): void {
  let world: World | undefined
  beforeAll(async () => {
    world = await createWorld(options)
    await ready(world)
    await world.save()
  }, 60_000)
  afterAll(async () => {
    await world?.anvil.stop()
  })
  afterEach(async () => {
    await world?.reset()
  })
}
