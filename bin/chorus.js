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
// Start-up is mostly loading modules (TypeScript stripped, then compiled: ~300 for `chorus trace`, ~900 for
// a service), and `chorus trace` must answer in 300 ms, start-up included (issue 13). Node's compile cache
// keeps each module's stripped and compiled code on disk, checked against its source, so later runs skip
// that work (as tsc does). It is at NODE_COMPILE_CACHE=<dir> if set, else <tmpdir>/node-compile-cache;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off, and it stays off under V8 coverage (NODE_V8_COVERAGE), whose
// counts it would blur.
if (process.env.NODE_V8_COVERAGE === undefined) {
  try {
    const { enableCompileCache } = await import("node:module")
    enableCompileCache?.()
  } catch {
    // A cache that cannot be used only costs speed.
  }
}
/** How long a returned command's process may wait for what it left open to close by itself. */
const EXIT_GRACE_MS = 5_000
const { main } = await import("../cli/main.ts")
process.exitCode = await main(process.argv.slice(2))
// A command that has returned has nothing left to do. A client some failure left open (a Kafka connection,
// a timer) must not keep the process alive: a supervisor would wait for an exit that never comes. The timer
// is unref'd, so it only fires when something else still holds the process.
setTimeout(() => {
  process.stderr.write(
    `chorus: the command ended, but something it left open kept the process alive; exiting (code ${process.exitCode ?? 0})\n`,
  )
  process.exit()
}, EXIT_GRACE_MS).unref()
