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
import { connect as connectTcp, Socket } from "node:net"
import { type ConnectionOptions, connect as connectTls } from "node:tls"
import type { ISocketFactory } from "kafkajs"
import { isCertificateRefusal } from "./errors.ts"
import { tlsConnectOptions } from "./security.ts"

const KEEP_ALIVE_DELAY_MS = 60_000

/** Errors that say nothing about TLS: nobody listens there, or the address is wrong. */
const NOT_TLS = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ETIMEDOUT",
])

/** A TLS connection that failed before its handshake completed. */
export interface TlsFailure {
  /** `host:port`. */
  readonly broker: string
  readonly error: NodeJS.ErrnoException
}

/** A kafkajs socket factory plus the switch that cuts it off. */
export interface SocketTracker {
  readonly socketFactory: ISocketFactory
  sever(): void
  readonly severed: boolean
  /**
   * The last TLS handshake that failed (an untrusted certificate, a host
   * name the certificate does not hold, a listener that does not speak
   * TLS): kafkajs retries those as connection errors until a deadline hides
   * them, so the bus asks here why it could not connect.
   */
  readonly lastTlsFailure: TlsFailure | undefined
  /**
   * Settles with the first certificate refusal (see `isCertificateRefusal`):
   * the bus fails at once rather than retrying what cannot succeed. Never
   * rejects.
   */
  readonly certificateRefused: Promise<TlsFailure>
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
  let lastTlsFailure: TlsFailure | undefined
  const refused = Promise.withResolvers<TlsFailure>()
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
      ? connectTls(tlsConnectOptions(host, port, ssl as ConnectionOptions | true), onConnect)
      : connectTcp({ host, port }, onConnect)
    if (ssl) {
      let secured = false
      socket.once("secureConnect", () => {
        secured = true
      })
      socket.on("error", (error: NodeJS.ErrnoException) => {
        if (!secured && !severed && !NOT_TLS.has(error.code ?? "")) {
          lastTlsFailure = { broker: `${host}:${port}`, error }
          if (isCertificateRefusal(error.code)) refused.resolve(lastTlsFailure)
        }
      })
    }
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
    get lastTlsFailure() {
      return lastTlsFailure
    },
    certificateRefused: refused.promise,
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

/**
 * Rejects with the first certificate refusal, for a `Promise.race` against
 * connecting; handled, so a refusal after the race is over is no unhandled
 * rejection.
 *
 * @example
 * ```ts
 * await Promise.race([admin.connect(), refusedCertificate(sockets)])
 * ```
 */
export const refusedCertificate = (sockets: SocketTracker): Promise<never> => {
  const refused = sockets.certificateRefused.then((failure): never => {
    throw failure.error
  })
  refused.catch(() => {})
  return refused
}
