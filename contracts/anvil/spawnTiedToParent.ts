/**
 * Spawns a process that cannot outlive the Node process that spawned it, even when that one is killed with
 * `kill -9` (no `exit` or signal hook runs then, so the hooks in startAnvil.ts cannot help).
 *
 * How: the command runs under `/bin/sh`, which forks a watcher and then `exec`s the command, so the command
 * keeps the pid Node knows (`child.pid`, `child.kill()` and the `exit` event all reach the command itself, as
 * before). The watcher blocks in read(2) on the shell's stdin (the command gets /dev/null), a socket whose
 * other end only this process holds (libuv opens it close-on-exec, so no other child inherits it). When this
 * process dies, however it dies, the kernel closes that end, the watcher reads EOF and sends SIGKILL to the
 * command. When the command ends first, this process writes one line before closing its end: a line means
 * "stand down", EOF alone means "your parent is gone", so the watcher never signals a pid that may already
 * belong to someone else. The watcher sleeps in the kernel (no polling), ignores SIGINT like any background
 * job of a script (Ctrl-C reaches the command and this process directly), and costs one idle `sh` per
 * command.
 *
 * Why not something else:
 * - A process group only helps when the killer signals the group; `kill -9 <pid>`, the OOM killer or a
 *   supervisor killing the main pid signal one process.
 * - A parent-death signal (prctl PR_SET_PDEATHSIG, `setpriv --pdeathsig KILL`) is Linux-only, needs a recent
 *   util-linux, and fires when the *thread* that forked exits: a chain started from a worker thread would die
 *   with that thread while the process still uses it. Node cannot set it itself.
 * - A Node watchdog would cost a second V8 (tens of MB, ~50 ms) per chain, and the command's pid would no
 *   longer be the child's, so every signal would need forwarding.
 *
 * Limits: on Windows (no /bin/sh) the command is spawned directly and only the caller's hooks reap it.
 * Killing the watcher alone (and then the parent with `kill -9`) would orphan the command.
 *
 * @example
 * const child = spawnTiedToParent("/path/to/anvil", ["--port", "0"])
 * child.stdout.on("data", (chunk) => console.log(String(chunk)))
 * child.kill("SIGTERM") // reaches anvil itself; the watcher stands down once anvil has exited
 */
import { type ChildProcessByStdio, spawn } from "node:child_process"
import type { Readable, Writable } from "node:stream"

/** The shell's `$0`: it names the watcher in `ps` and in the shell's error messages. */
export const WATCHER_NAME = "chorus-parent-watch"

// fd 3 keeps the socket to the parent for the watcher; the command gets /dev/null as stdin and not fd 3.
// `read` succeeds on a line ("stand down") and fails on EOF without one (the parent is gone): then kill the
// command, which by then has replaced this shell under the same pid ($$). The watcher's own output goes
// nowhere, so it never holds the command's stdout/stderr pipes open.
const SCRIPT = `exec 3<&0 </dev/null
( if read -r line <&3; then exit 0; fi; kill -KILL $$ ) >/dev/null 2>&1 &
exec 3<&-
exec "$@"`

/**
 * Spawns `command` with piped stdout and stderr so that it is killed as soon as this process dies, even by
 * SIGKILL. `child.stdin` is the watcher's line to this process, not the command's stdin (that is /dev/null):
 * leave it alone (a line stands the watcher down; closing it kills the command).
 */
export function spawnTiedToParent(
  command: string,
  args: readonly string[],
): ChildProcessByStdio<Writable, Readable, Readable> {
  if (process.platform === "win32") return spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] })
  const child = spawn("/bin/sh", ["-c", SCRIPT, WATCHER_NAME, command, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  })
  const tie = child.stdin
  // The watcher may be gone already (EPIPE): nothing to do then.
  tie.on("error", () => {})
  // The command ended while we live: the watcher stands down instead of killing a pid that is free now.
  child.once("exit", () => tie.end("exit\n"))
  child.once("error", () => tie.destroy())
  return child
}
