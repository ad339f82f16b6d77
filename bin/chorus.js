#!/usr/bin/env node
// The chorus command. Chorus runs its TypeScript directly on Node's type
// stripping, so it needs Node >= 22.19; the project pins Node 24 through the
// `node` devDependency, which `npx chorus` and `npm run` put first on PATH.
const [major, minor] = process.versions.node.split(".").map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(
    `chorus needs Node.js >= 22.19 (this is ${process.versions.node}).\n` +
      "Run it through npm so the project's pinned Node 24 is used: `npx chorus …` or `npm run chorus -- …`.\n",
  )
  process.exit(2)
}
// kafkajs 2.2.4 sets timers Node 24 calls negative (TimeoutNegativeWarning):
// harmless, unfixable without patching kafkajs, and noise on an operator's terminal.
const emitWarning = process.emitWarning
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type
  if (type === "TimeoutNegativeWarning") return
  return emitWarning.call(process, warning, ...rest)
}
const { main } = await import("../cli/main.ts")
process.exitCode = await main(process.argv.slice(2))
