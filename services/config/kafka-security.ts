/**
 * The config file's Kafka security section (`bus.kafka`): TLS towards the
 * brokers and a SASL/SCRAM-SHA-512 login, and its resolution into the
 * options the Kafka adapter takes.
 *
 * ```json
 * "bus": {
 *   "brokers": ["kafka-1.internal:9093"],
 *   "kafka": {
 *     "ssl": { "ca": "/etc/chorus/kafka-ca.pem" },
 *     "sasl": { "mechanism": "scram-sha-512", "username": "chorus-submitter", "password": "env:CHORUS_KAFKA_PASSWORD" }
 *   }
 * }
 * ```
 *
 * Invariants:
 * - Secrets (the username, the password, the CA path) may be `env:NAME`,
 *   read from the environment when the bus is opened, like private keys;
 *   a variable that is not set is an error that names it, never an empty
 *   login.
 * - The environment variables every Chorus process reads
 *   (`CHORUS_KAFKA_CA`, `CHORUS_KAFKA_SSL`, `CHORUS_KAFKA_SASL_USERNAME`,
 *   `CHORUS_KAFKA_SASL_PASSWORD`; see `bus/kafka/security.ts`) override the
 *   file setting by setting, so one config file can serve every service,
 *   each process logging in as its own principal.
 * - `rejectUnauthorized` defaults to true; only the file can turn it off.
 * - A relative CA path is relative to the working directory.
 *
 * @module
 */
import { Effect, Schema } from "effect"
import {
  KAFKA_SECURITY_ENV,
  type KafkaSecurity,
  kafkaSecurityFromEnv,
  readCa,
} from "../../bus/kafka/security.ts"
import { ChorusError } from "../../errors/index.ts"

const NonEmpty = Schema.String.check(Schema.isMinLength(1, { message: "expected a non-empty string" }))

/** A value, or `env:NAME` to read it from the environment when the bus is opened. */
export const KafkaSecret = NonEmpty

export class KafkaTlsConfig extends Schema.Class<KafkaTlsConfig>("KafkaTlsConfig")({
  /** PEM file of the CA that signed the brokers' certificates (or `env:NAME`); the system's CAs when absent. */
  ca: Schema.optionalKey(KafkaSecret),
  /** Check the brokers' certificates and host names. Default true. */
  rejectUnauthorized: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(true))),
  /** The name the certificates are checked against, when the brokers are addressed by IP or another name. */
  servername: Schema.optionalKey(NonEmpty),
}) {}

export class KafkaSaslConfig extends Schema.Class<KafkaSaslConfig>("KafkaSaslConfig")({
  /** Only SCRAM-SHA-512: the password never crosses the wire. Default scram-sha-512. */
  mechanism: Schema.Literal("scram-sha-512").pipe(
    Schema.withDecodingDefaultKey(Effect.succeed("scram-sha-512" as const)),
  ),
  /** The SASL user, e.g. `chorus-submitter` (docs/security.md names each service's principal), or `env:NAME`. */
  username: KafkaSecret,
  /** The password, or (better) `env:NAME`. */
  password: KafkaSecret,
}) {}

/** `bus.kafka`: TLS, SASL, both (SASL_SSL), or neither (PLAINTEXT). */
export class KafkaSecurityConfig extends Schema.Class<KafkaSecurityConfig>("KafkaSecurityConfig")({
  ssl: Schema.optionalKey(KafkaTlsConfig),
  sasl: Schema.optionalKey(KafkaSaslConfig),
}) {}

/** A `bus.kafka` setting that cannot be resolved: an `env:` variable that is not set. */
export class KafkaSecurityConfigError extends ChorusError {
  override readonly name = "KafkaSecurityConfigError"
  readonly path: string
  constructor(path: string, variable: string) {
    super(`bus.kafka: ${path} names ${variable}, which is not set in the environment`, {
      details: { path, variable },
      hint: `set ${variable}, or give the value in the config`,
    })
    this.path = path
  }
}

const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)$/

/**
 * A configured value, or what `env:NAME` names in the environment.
 *
 * @example
 * ```ts
 * resolveKafkaSecret("env:KAFKA_PASSWORD", "sasl.password") // the variable's value, or KafkaSecurityConfigError
 * resolveKafkaSecret("chorus-submitter", "sasl.username") // "chorus-submitter"
 * ```
 */
export const resolveKafkaSecret = (
  value: string,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): string => {
  const reference = ENV_REFERENCE.exec(value)
  if (reference === null) return value
  const name = reference[1]!
  const resolved = env[name]
  if (resolved === undefined || resolved === "") throw new KafkaSecurityConfigError(path, name)
  return resolved
}

/**
 * The Kafka adapter's security options from the config's `bus.kafka` and
 * the environment (which wins, setting by setting). Undefined: PLAINTEXT.
 *
 * @example
 * ```ts
 * const security = resolveKafkaSecurity(config.bus?.kafka)
 * const bus = await openKafkaBus({ brokers, ...(security === undefined ? { security: {} } : { security }) })
 * ```
 */
export const resolveKafkaSecurity = (
  config: KafkaSecurityConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KafkaSecurity | undefined => {
  const ssl = config?.ssl
  const sasl = config?.sasl
  // A setting the environment overrides is not resolved: its env: variable need not be set.
  const overridden = (name: string) => (env[name] ?? "").trim() !== ""
  const resolve = (value: string, path: string, variable: string) =>
    overridden(variable) ? "" : resolveKafkaSecret(value, path, env)
  const base: KafkaSecurity = {
    ...(ssl === undefined
      ? {}
      : {
          ssl: {
            ...(ssl.ca === undefined || overridden(KAFKA_SECURITY_ENV.ca)
              ? {}
              : { ca: readCa(resolveKafkaSecret(ssl.ca, "ssl.ca", env), "bus.kafka.ssl.ca") }),
            rejectUnauthorized: ssl.rejectUnauthorized,
            ...(ssl.servername === undefined ? {} : { servername: ssl.servername }),
          },
        }),
    ...(sasl === undefined
      ? {}
      : {
          sasl: {
            mechanism: sasl.mechanism,
            username: resolve(sasl.username, "sasl.username", KAFKA_SECURITY_ENV.username),
            password: resolve(sasl.password, "sasl.password", KAFKA_SECURITY_ENV.password),
          },
        }),
  }
  return kafkaSecurityFromEnv(env, base)
}
