/**
 * How a Kafka client proves who it is and checks whom it talks to: TLS and
 * SASL/SCRAM-SHA-512, as the adapter takes them, and as the environment
 * gives them to every Chorus process.
 *
 * Invariants:
 * - The adapter takes resolved values (the CA's PEM text, the password
 *   itself). Files and the environment are read here, in
 *   {@link kafkaSecurityFromEnv}, or from the config file by
 *   `services/config/kafka-security.ts`; never during a request.
 * - TLS checks the broker's certificate and host name unless
 *   `rejectUnauthorized` is false, which only the config file can say (no
 *   environment variable turns checking off).
 * - No secret reaches a log line, an error message or its details:
 *   {@link principalOf} and {@link describeKafkaSecurity} name only the
 *   mechanism and the user.
 *
 * The environment (every Chorus process reads it when its options say
 * nothing about security):
 * - `CHORUS_KAFKA_CA`: a PEM file of the CA that signed the brokers'
 *   certificates (or the PEM text itself); turns TLS on.
 * - `CHORUS_KAFKA_SSL`: `true`/`1` turns TLS on with the system's CAs when
 *   no CA is given; `false`/`0` turns off TLS the config file asked for.
 * - `CHORUS_KAFKA_SASL_USERNAME`, `CHORUS_KAFKA_SASL_PASSWORD`: a
 *   SCRAM-SHA-512 login; each overrides the config file's value.
 *
 * @module
 */
import { readFileSync } from "node:fs"
import { isIP } from "node:net"
import type { ConnectionOptions } from "node:tls"
import type { SASLOptions } from "kafkajs"
import { KafkaConfigError } from "./errors.ts"

/** TLS towards the brokers. */
export interface KafkaTlsOptions {
  /** PEM text of the CA certificate(s) the brokers' certificates chain to; the system's CAs when absent. */
  readonly ca?: string
  /** Default true. False accepts any certificate: only for a broker whose certificate cannot be fixed. */
  readonly rejectUnauthorized?: boolean
  /** The name the brokers' certificates are checked against (and sent as SNI); the broker's host when absent. */
  readonly servername?: string
}

/** A SASL login. Kafka's SCRAM-SHA-512 only: the password never crosses the wire. */
export interface KafkaSaslOptions {
  readonly mechanism: "scram-sha-512"
  readonly username: string
  readonly password: string
}

/** TLS, SASL, both (SASL_SSL, what a secured cluster runs) or neither (PLAINTEXT). */
export interface KafkaSecurity {
  readonly ssl?: KafkaTlsOptions
  readonly sasl?: KafkaSaslOptions
}

/** The environment variables {@link kafkaSecurityFromEnv} reads. */
export const KAFKA_SECURITY_ENV = {
  ca: "CHORUS_KAFKA_CA",
  ssl: "CHORUS_KAFKA_SSL",
  username: "CHORUS_KAFKA_SASL_USERNAME",
  password: "CHORUS_KAFKA_SASL_PASSWORD",
} as const

const PEM = /-----BEGIN [A-Z ]+-----/

/**
 * The PEM text of a CA: `value` itself when it is PEM, else the file it names.
 *
 * @example
 * ```ts
 * readCa("/etc/chorus/kafka-ca.pem", "CHORUS_KAFKA_CA") // "-----BEGIN CERTIFICATE-----\n…"
 * ```
 */
export const readCa = (value: string, source: string): string => {
  if (PEM.test(value)) return value
  let text: string
  try {
    text = readFileSync(value, "utf8")
  } catch (error) {
    throw new KafkaConfigError(
      `cannot read the Kafka CA file ${value} (${source}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { source, path: value },
      "give the path of the PEM file of the CA that signed the brokers' certificates",
    )
  }
  if (!PEM.test(text)) {
    throw new KafkaConfigError(
      `the Kafka CA file ${value} (${source}) holds no PEM certificate`,
      { source, path: value },
      "give a PEM file (-----BEGIN CERTIFICATE-----)",
    )
  }
  return text
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value

/**
 * The security the environment asks for, over `base` (the config file's, if
 * any): each variable that is set replaces that one setting. Undefined when
 * neither says anything, which means PLAINTEXT.
 *
 * @example
 * ```ts
 * // CHORUS_KAFKA_CA=ca.pem CHORUS_KAFKA_SASL_USERNAME=chorus-submitter CHORUS_KAFKA_SASL_PASSWORD=…
 * kafkaSecurityFromEnv() // { ssl: { ca: "-----BEGIN…" }, sasl: { mechanism: "scram-sha-512", username: "chorus-submitter", … } }
 * ```
 */
export const kafkaSecurityFromEnv = (
  env: NodeJS.ProcessEnv = process.env,
  base: KafkaSecurity | undefined = undefined,
): KafkaSecurity | undefined => {
  const names = KAFKA_SECURITY_ENV
  let ssl = base?.ssl
  const sslFlag = nonEmpty(env[names.ssl])?.trim().toLowerCase()
  const ca = nonEmpty(env[names.ca])
  if (sslFlag !== undefined && !["true", "1", "false", "0"].includes(sslFlag)) {
    throw new KafkaConfigError(`${names.ssl} must be true or false, got ${JSON.stringify(env[names.ssl])}`, {
      variable: names.ssl,
    })
  }
  if (sslFlag === "false" || sslFlag === "0") {
    if (ca !== undefined) {
      throw new KafkaConfigError(`${names.ssl}=${sslFlag} contradicts ${names.ca}, which turns TLS on`, {
        variables: [names.ssl, names.ca],
      })
    }
    ssl = undefined
  } else if (sslFlag !== undefined) {
    ssl = ssl ?? {}
  }
  if (ca !== undefined) ssl = { ...ssl, ca: readCa(ca, names.ca) }

  const username = nonEmpty(env[names.username]) ?? base?.sasl?.username
  const password = nonEmpty(env[names.password]) ?? base?.sasl?.password
  let sasl: KafkaSaslOptions | undefined
  if (username !== undefined || password !== undefined) {
    if (username === undefined || password === undefined) {
      const missing = username === undefined ? names.username : names.password
      throw new KafkaConfigError(
        `a Kafka SASL login needs both a username and a password; ${missing} is not set`,
        { missing },
        `set ${names.username} and ${names.password} (or bus.kafka.sasl in the config)`,
      )
    }
    sasl = { mechanism: "scram-sha-512", username, password }
  }
  if (ssl === undefined && sasl === undefined) return undefined
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) }
}

/**
 * The principal the brokers' authorizer sees: `User:<username>` with SASL,
 * undefined without (the broker then sees `User:ANONYMOUS`).
 *
 * @example
 * ```ts
 * principalOf({ sasl: { mechanism: "scram-sha-512", username: "chorus-submitter", password } }) // "User:chorus-submitter"
 * ```
 */
export const principalOf = (security: KafkaSecurity | undefined): string | undefined =>
  security?.sasl === undefined ? undefined : `User:${security.sasl.username}`

/**
 * One line for logs and `--help`, without secrets.
 *
 * @example
 * ```ts
 * describeKafkaSecurity({ ssl: {}, sasl }) // "SASL_SSL (SCRAM-SHA-512 as chorus-submitter)"
 * ```
 */
export const describeKafkaSecurity = (security: KafkaSecurity | undefined): string => {
  const protocol = `${security?.sasl === undefined ? "" : "SASL_"}${security?.ssl === undefined ? "PLAINTEXT" : "SSL"}`
  return security?.sasl === undefined ? protocol : `${protocol} (SCRAM-SHA-512 as ${security.sasl.username})`
}

/**
 * What kafkajs takes: `ssl` for the socket factory, `sasl` for the client.
 *
 * @example
 * ```ts
 * new Kafka({ brokers, ...toKafkaJS(security) })
 * ```
 */
export const toKafkaJS = (
  security: KafkaSecurity | undefined,
): { ssl?: ConnectionOptions; sasl?: SASLOptions } => {
  const tls = security?.ssl
  const sasl = security?.sasl
  return {
    ...(tls === undefined
      ? {}
      : {
          ssl: {
            ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
            rejectUnauthorized: tls.rejectUnauthorized ?? true,
            ...(tls.servername === undefined ? {} : { servername: tls.servername }),
          },
        }),
    ...(sasl === undefined
      ? {}
      : { sasl: { mechanism: "scram-sha-512", username: sasl.username, password: sasl.password } }),
  }
}

/** The TLS options of one connection: the broker's host name is checked and sent as SNI unless told otherwise. */
export const tlsConnectOptions = (
  host: string,
  port: number,
  ssl: ConnectionOptions | true,
): ConnectionOptions => {
  const options = ssl === true ? {} : ssl
  return {
    host,
    port,
    ...(options.servername === undefined && !isIP(host) ? { servername: host } : {}),
    ...options,
  }
}
