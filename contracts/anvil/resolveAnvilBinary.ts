import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { ChorusError } from "../../errors/index.ts"

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64" }

/** Thrown when no anvil binary can be found for this platform. */
export class AnvilNotFoundError extends ChorusError {
  override readonly name = "AnvilNotFoundError"
  declare readonly details: { platform: string; arch: string; tried: string[] }
  constructor(details: { platform: string; arch: string; tried: string[] }) {
    super(`anvil binary not found for ${details.platform}-${details.arch}`, {
      details,
      metaMessages: details.tried.map((path) => `tried: ${path}`),
      hint: "Run `npm ci` (it installs @foundry-rs/anvil and its platform package) or set CHORUS_ANVIL_BIN.",
    })
  }
}

/**
 * Resolves the anvil executable shipped by the `@foundry-rs/anvil-<platform>-<arch>` package, so it can be spawned
 * directly (spawning through npx leaves the real anvil running when the wrapper is killed).
 * `CHORUS_ANVIL_BIN` overrides the lookup.
 *
 * @example
 * const bin = resolveAnvilBinary() // ".../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
 */
export function resolveAnvilBinary(): string {
  const override = process.env.CHORUS_ANVIL_BIN
  if (override) return override
  const platform = process.platform
  const arch = ARCH[process.arch] ?? process.arch
  const pkg = `@foundry-rs/anvil-${platform}-${arch}`
  const exe = platform === "win32" ? "anvil.exe" : "anvil"
  const tried: string[] = []
  const require = createRequire(import.meta.url)
  try {
    const bin = join(dirname(require.resolve(`${pkg}/package.json`)), "bin", exe)
    tried.push(bin)
    if (existsSync(bin)) return bin
  } catch {
    tried.push(`${pkg} (not installed)`)
  }
  throw new AnvilNotFoundError({ platform, arch, tried })
}
