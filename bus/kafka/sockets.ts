/**
 * The sockets a Kafka client opens, held so that a simulated crash can cut
 * them all at once.
 *
 * Invariants:
 * - Until {@link SocketTracker.sever} is called, sockets are exactly what
 *   kafkajs's default factory makes (TCP or TLS, keep-alive 60 s).
 * - After it, every open socket is destroyed and every new one fails at
 *   once: no request — no commit, heartbeat or LeaveGroup — reaches a broker
 *   again, which is what a `kill -9` looks like from the cluster's side.
 *
 * @module
 */
import { connect as connectTcp, isIP, Socket } from "node:net"
import { connect as connectTls } from "node:tls"
import type { ISocketFactory } from "kafkajs"

const KEEP_ALIVE_DELAY_MS = 60_000

/** A kafkajs socket factory plus the switch that cuts it off. */
export interface SocketTracker {
  readonly socketFactory: ISocketFactory
  sever(): void
  readonly severed: boolean
}

/**
 * @example
 * ```ts
 * const sockets = trackSockets()
 * const kafka = new Kafka({ brokers, socketFactory: sockets.socketFactory })
 * sockets.sever() // the client is now cut off from every broker
 * ```
 */
export const trackSockets = (): SocketTracker => {
  const open = new Set<Socket>()
  let severed = false
  const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    if (severed) {
      const dead = new Socket()
      process.nextTick(() =>
        dead.destroy(new Error(`connection to ${host}:${port} severed (simulated crash)`)),
      )
      return dead
    }
    // kafkajs passes null without TLS, an options object (or `true`) with it.
    const socket = ssl
      ? connectTls({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
      : connectTcp({ host, port }, onConnect)
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS)
    open.add(socket)
    socket.once("close", () => open.delete(socket))
    return socket
  }
  return {
    socketFactory,
    get severed() {
      return severed
    },
    sever: () => {
      severed = true
      // With an error: kafkajs learns of a dead connection only through
      // "error" or "end", and would otherwise wait out requestTimeout on
      // requests written to a destroyed socket.
      for (const socket of open) socket.destroy(new Error("connection severed (simulated crash)"))
      open.clear()
    },
  }
}
