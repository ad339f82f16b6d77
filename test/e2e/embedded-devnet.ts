import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll } from "vitest"
import { type Devnet, startDevnet } from "../../cli/devnet/devnet.ts"
import { quietLogger } from "../../services/runtime/index.ts"

/**
 * A devnet on the embedded bus for one test file: started before its tests, stopped and its data directory
 * removed after them.
 *
 * @example
 * ```ts
 * const net = useEmbeddedDevnet("rotation")
 * it("…", async () => { await net.devnet.send({ messages: 6, rate: 6 }) })
 * ```
 */
export const useEmbeddedDevnet = (name: string): { readonly devnet: Devnet; readonly dir: string } => {
  const dir = mkdtempSync(join(tmpdir(), `chorus-${name}-`))
  let devnet: Devnet | undefined
  beforeAll(async () => {
    devnet = await startDevnet({ bus: { kind: "embedded", dataDir: dir }, logger: quietLogger() })
  }, 180_000)
  afterAll(async () => {
    await devnet?.stop()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)
  return {
    dir,
    get devnet() {
      if (devnet === undefined) throw new Error(`the ${name} devnet is not started (used outside its tests?)`)
      return devnet
    },
  }
}
