/**
 * Where the owner of a data directory serves its bus to other processes.
 *
 * Invariants:
 * - The socket is `<dataDir>/bus.sock` when that absolute path fits in a Unix
 *   socket address (`sun_path`: 104 bytes on macOS, 108 on Linux, NUL
 *   included); otherwise (or when the data directory's file system refuses
 *   sockets) it is `<tmpdir>/chorus-bus-<sha256 of the directory>.sock`, and
 *   `<dataDir>/bus.sock.path` holds that path.
 * - `bus.sock.path` exists exactly while an owner serves on the fallback: the
 *   owner (the LOCK holder) removes it before serving in the directory, and on
 *   close. A client therefore reads the pointer when there is one and uses
 *   `<dataDir>/bus.sock` otherwise, without repeating the owner's choice (its
 *   tmpdir may differ).
 *
 * @module
 */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

/** The longest socket path every supported platform accepts (macOS: 104 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 103

const SOCKET_FILE = "bus.sock"
const POINTER_FILE = "bus.sock.path"

/** A place the owner can listen on; `pointer` is the file to write the path into, if any. */
export interface SocketCandidate {
  readonly path: string
  readonly pointer?: string
}

/**
 * Where an owner tries to serve, best first: the data directory when the path
 * is short enough, then the hashed fallback in the temporary directory.
 *
 * @example
 * ```ts
 * socketCandidates("/data/bus")
 * // => [{ path: "/data/bus/bus.sock" }, { path: "/tmp/chorus-bus-3f2a….sock", pointer: "/data/bus/bus.sock.path" }]
 * ```
 */
export function socketCandidates(dataDir: string): ReadonlyArray<SocketCandidate> {
  const absolute = resolve(dataDir)
  const inDir = join(absolute, SOCKET_FILE)
  const hash = createHash("sha256").update(absolute).digest("hex").slice(0, 32)
  const fallback = { path: join(tmpdir(), `chorus-bus-${hash}.sock`), pointer: join(absolute, POINTER_FILE) }
  return fits(inDir) ? [{ path: inDir }, fallback] : [fallback]
}

/**
 * The pointer file an owner serving in the data directory must remove.
 *
 * @example
 * ```ts
 * rmSync(socketPointerFile("/data/bus"), { force: true })
 * ```
 */
export function socketPointerFile(dataDir: string): string {
  return join(resolve(dataDir), POINTER_FILE)
}

/**
 * Where a client connects: the path in `bus.sock.path` if present, else `<dataDir>/bus.sock`.
 *
 * @example
 * ```ts
 * const socket = connect(locateSocket("/data/bus"))
 * ```
 */
export function locateSocket(dataDir: string): string {
  try {
    const pointed = readFileSync(socketPointerFile(dataDir), "utf8").trim()
    if (pointed !== "") return pointed
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error
  }
  return join(resolve(dataDir), SOCKET_FILE)
}

/**
 * Whether a path fits in a Unix socket address on every supported platform.
 *
 * @example
 * ```ts
 * fits("/tmp/x/bus.sock") // => true
 * ```
 */
export function fits(path: string): boolean {
  return Buffer.byteLength(path, "utf8") <= MAX_SOCKET_PATH_BYTES
}
