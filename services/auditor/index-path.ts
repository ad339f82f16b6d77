import { homedir } from "node:os"
import { join } from "node:path"

/**
 * Where the audit index of a log lives, unless `--index` says otherwise:
 * inside the embedded log's data directory, or in the user's cache for a
 * Kafka cluster (one file per broker list).
 *
 * @example
 * ```ts
 * auditIndexPath({ dataDir: "/tmp/devnet" }) // "/tmp/devnet/audit/index.sqlite"
 * ```
 */
export const auditIndexPath = (where: {
  readonly index?: string
  readonly dataDir?: string
  readonly brokers?: ReadonlyArray<string>
}): string => {
  if (where.index !== undefined) return where.index
  if (where.dataDir !== undefined) return join(where.dataDir, "audit", "index.sqlite")
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache")
  const slug = (where.brokers ?? []).join(",").replace(/[^A-Za-z0-9.-]+/g, "_")
  return join(cache, "chorus", "audit", `kafka-${slug}.sqlite`)
}
