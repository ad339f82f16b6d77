/**
 * Compiles contracts/src/*.sol with the pinned solc-js (standard JSON) and writes typed viem artifacts to
 * contracts/out/<Name>.ts (`<name>Abi` as const, `<name>Bytecode`) plus contracts/out/index.ts.
 *
 * Any error OR warning fails the build (exit 1), each printed as file:line:column. Output is deterministic:
 * sources are fed in sorted order, no metadata hash is appended, and files are only rewritten when they change.
 *
 * Run: `npm run build:contracts` (node scripts/build-contracts.ts, Node 24 type stripping).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)
const solc = require("solc") as {
  version(): string
  compile(
    input: string,
    options?: { import?: (path: string) => { contents: string } | { error: string } },
  ): string
}

const SOLC_VERSION = "0.8.30"
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const srcDir = join(root, "contracts", "src")
const outDir = join(root, "contracts", "out")

type SolcMessage = {
  severity: "error" | "warning" | "info"
  type: string
  formattedMessage?: string
  message: string
  sourceLocation?: { file: string; start: number; end: number }
}
type AstNode = { nodeType: string; name?: string; contractKind?: string; nodes?: AstNode[] }
type SolcOutput = {
  errors?: SolcMessage[]
  sources?: Record<string, { ast: AstNode }>
  contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>
}

function listSources(dir: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...listSources(path))
    else if (entry.name.endsWith(".sol")) files.push(path)
  }
  return files.sort()
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split("\n")
  return `${before.length}:${before[before.length - 1]!.length + 1}`
}

function lowerFirst(name: string): string {
  // "OperatorRegistry" -> "operatorRegistry"; leading acronyms stay readable ("ERC20X" -> "erc20X").
  const match = /^[A-Z]+(?=[A-Z][a-z]|$)|^[A-Z]/.exec(name)
  return match ? match[0].toLowerCase() + name.slice(match[0].length) : name
}

function writeIfChanged(path: string, content: string): void {
  if (existsSync(path) && readFileSync(path, "utf8") === content) return
  writeFileSync(path, content)
}

function main(): void {
  if (!solc.version().startsWith(`${SOLC_VERSION}+`)) {
    console.error(
      `build-contracts: solc ${solc.version()} is installed, ${SOLC_VERSION} is pinned. Run npm ci.`,
    )
    process.exit(1)
  }
  const files = listSources(srcDir)
  const sources: Record<string, { content: string }> = {}
  for (const file of files) sources[`src/${relative(srcDir, file)}`] = { content: readFileSync(file, "utf8") }

  const input = {
    language: "Solidity",
    sources,
    settings: {
      evmVersion: "cancun",
      viaIR: true,
      optimizer: { enabled: true, runs: 10_000 },
      metadata: { appendCBOR: false, bytecodeHash: "none" },
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"], "": ["ast"] } },
    },
  }
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: (path) => ({ error: `import not found: ${path}` }) }),
  ) as SolcOutput

  const problems = (output.errors ?? []).filter((m) => m.severity !== "info")
  if (problems.length > 0) {
    for (const m of problems) {
      const loc = m.sourceLocation
      const where =
        loc && sources[loc.file]
          ? `contracts/${loc.file}:${lineColumn(sources[loc.file]!.content, loc.start)}`
          : "contracts"
      console.error(`${where}: ${m.type}: ${m.message}`)
    }
    console.error(
      `build-contracts: ${problems.length} problem(s); warnings fail the build too. Fix them and rerun npm run build:contracts.`,
    )
    process.exit(1)
  }

  // Only deployable contracts get artifacts: libraries and interfaces are skipped.
  const deployable = new Set<string>()
  for (const [file, { ast }] of Object.entries(output.sources ?? {})) {
    for (const node of ast.nodes ?? []) {
      if (node.nodeType === "ContractDefinition" && node.contractKind === "contract") {
        deployable.add(`${file}:${node.name}`)
      }
    }
  }
  const artifacts: { name: string; exportName: string }[] = []
  for (const file of Object.keys(output.contracts ?? {}).sort()) {
    for (const [name, contract] of Object.entries(output.contracts![file]!).sort(([a], [b]) =>
      a.localeCompare(b),
    )) {
      const bytecode = contract.evm.bytecode.object
      if (!deployable.has(`${file}:${name}`) || bytecode.length === 0) continue
      if (artifacts.some((a) => a.name === name)) {
        console.error(`build-contracts: two contracts are named ${name}; contract names must be unique.`)
        process.exit(1)
      }
      const exportName = lowerFirst(name)
      const body =
        `// Generated by scripts/build-contracts.ts from contracts/${file} (solc ${SOLC_VERSION}). Do not edit.\n` +
        `export const ${exportName}Abi = ${JSON.stringify(contract.abi, null, 2)} as const\n\n` +
        `export const ${exportName}Bytecode = "0x${bytecode}" as const\n`
      artifacts.push({ name, exportName })
      mkdirSync(outDir, { recursive: true })
      writeIfChanged(join(outDir, `${name}.ts`), body)
    }
  }
  // Drop artifacts of contracts that no longer exist.
  for (const entry of existsSync(outDir) ? readdirSync(outDir) : []) {
    if (entry === "index.ts") continue
    if (!artifacts.some((a) => `${a.name}.ts` === entry)) rmSync(join(outDir, entry))
  }
  const index =
    "// Generated by scripts/build-contracts.ts. Do not edit.\n" +
    artifacts
      .map((a) => `export { ${a.exportName}Abi, ${a.exportName}Bytecode } from "./${a.name}.ts"`)
      .join("\n") +
    "\n"
  writeIfChanged(join(outDir, "index.ts"), index)
  console.log(
    `build-contracts: compiled ${artifacts.length} contracts with solc ${SOLC_VERSION} into contracts/out`,
  )
}

main()
