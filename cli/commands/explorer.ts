import { isLoopbackHost } from "../../explorer/listen.ts"
import { runExplorer } from "../../explorer/run-explorer.ts"
import { parseListen } from "../../metrics/server.ts"
import { type Command, flags, UsageError } from "../command.ts"
import { AUDIT_DETAILS, auditOptions } from "../open-audit.ts"
import { BUS_DETAILS, BUS_USAGE } from "../open-bus.ts"
import { stuckAfterOf } from "./trace.ts"

/** `chorus explorer`: a read-only API and page over the audit index. */
export const explorer: Command = {
  path: ["explorer"],
  summary: "serve a read-only status API and a web page of every message's story, from the log",
  usage: `explorer ${BUS_USAGE} [--listen 127.0.0.1:8080] [--public] [--stuck-after <duration>] [--index <file>]`,
  details: [
    BUS_DETAILS,
    AUDIT_DETAILS,
    "  --listen <host:port>     where to serve (default 127.0.0.1:8080; port 0 picks a free one)",
    "  --public                 allow a --listen beyond this machine's loopback (it serves every message to",
    "                           whoever reaches it; put it behind your own authentication)",
    "  --stuck-after <duration> how long a message may go without moving before it counts as stuck (default 2m)",
    "",
    "The page and the API (docs/api.md) answer from the audit index, which catches up with the log every",
    "second while it serves; the page says how fresh it is. It works while a devnet or a cluster runs, and on a",
    "stopped log. It never writes to the bus: recovery stays with `chorus retry`, whose exact command a",
    "message's page shows. Ctrl-C stops it.",
  ].join("\n"),
  options: { ...auditOptions, ...flags({ values: ["listen", "stuck-after"], switches: ["public"] }) },
  async run({ values, out, err }) {
    let listen: ReturnType<typeof parseListen>
    try {
      listen = parseListen(typeof values.listen === "string" ? values.listen : "127.0.0.1:8080")
    } catch (error) {
      throw new UsageError(`--listen: ${(error as Error).message}`)
    }
    if (!isLoopbackHost(listen.host) && values.public !== true)
      throw new UsageError(
        `--listen: ${listen.host} is beyond this machine's loopback, and the explorer shows every message to whoever reaches it; add --public to mean it`,
      )
    const stuckAfterMs = values["stuck-after"] === undefined ? undefined : stuckAfterOf(values["stuck-after"])
    const running = await runExplorer(values, listen, err, {
      ...(stuckAfterMs === undefined ? {} : { stuckAfterMs }),
      ...(values.public === true ? { public: true } : {}),
    })
    out(`explorer on ${running.url} (API under ${running.url}api/); Ctrl-C stops`)
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop)
        process.off("SIGTERM", stop)
        resolve()
      }
      process.on("SIGINT", stop)
      process.on("SIGTERM", stop)
    })
    await running.close()
    return 0
  },
}
