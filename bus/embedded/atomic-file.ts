/**
 * Replace a small file atomically: write a temporary file beside it, then
 * rename over it. A reader (or a process reopening after `kill -9`) sees the
 * old content or the new, never a mix.
 *
 * @module
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs"
import { dirname } from "node:path"

/**
 * Writes `content` to `path` atomically; with `durable`, also fsyncs the file
 * and its directory so the rename survives power loss.
 *
 * @example
 * ```ts
 * writeFileAtomic("/data/groups/g.json", JSON.stringify(offsets), false)
 * ```
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, durable: boolean): void {
  const temporary = `${path}.${process.pid}.tmp`
  const fd = openSync(temporary, "w")
  try {
    const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content
    let written = 0
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
    if (durable) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temporary, path)
  if (durable) fsyncDirectory(dirname(path))
}

/**
 * Makes a directory's entries (files created, renamed into it) survive power loss.
 *
 * @example
 * ```ts
 * mkdirSync("/data/topics/t")
 * fsyncDirectory("/data/topics")
 * ```
 */
export function fsyncDirectory(path: string): void {
  const dir = openSync(path, "r")
  try {
    fsyncSync(dir)
  } finally {
    closeSync(dir)
  }
}
