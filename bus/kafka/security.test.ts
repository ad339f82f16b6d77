/**
 * Kafka security without a broker: the environment and the config file's
 * `bus.kafka` resolved into the adapter's options, what kafkajs is given,
 * and the translation of refused logins, refused certificates and refused
 * ACLs into one clear error each. The same against a secured broker:
 * `secure.kafka.test.ts`.
 */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Schema } from "effect"
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError } from "kafkajs"
import { describe, expect, it } from "vitest"
import { busFlagsOrConfig, kafkaSecurityFromFlags } from "../../cli/open-bus.ts"
import {
  KafkaSecurityConfig,
  KafkaSecurityConfigError,
  resolveKafkaSecurity,
} from "../../services/config/kafka-security.ts"
import { withEnv } from "../../test/fixtures/kafka-secure.ts"
import {
  KafkaAuthenticationError,
  KafkaAuthorizationError,
  KafkaConfigError,
  KafkaTlsError,
  KafkaUnreachableError,
  translateKafkaError,
} from "./errors.ts"
import { describeKafkaSecurity, kafkaSecurityFromEnv, principalOf, toKafkaJS } from "./security.ts"

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
const dir = mkdtempSync(join(tmpdir(), "chorus-kafka-security-"))
const caFile = join(dir, "ca.pem")
writeFileSync(caFile, PEM)

describe("kafkaSecurityFromEnv", () => {
  it("is PLAINTEXT when nothing is set", () => {
    expect(kafkaSecurityFromEnv({})).toBeUndefined()
    expect(describeKafkaSecurity(undefined)).toBe("PLAINTEXT")
  })

  it("reads the CA file and a SCRAM-SHA-512 login", () => {
    const security = kafkaSecurityFromEnv({
      CHORUS_KAFKA_CA: caFile,
      CHORUS_KAFKA_SASL_USERNAME: "chorus-submitter",
      CHORUS_KAFKA_SASL_PASSWORD: "pw",
    })
    expect(security).toEqual({
      ssl: { ca: PEM },
      sasl: { mechanism: "scram-sha-512", username: "chorus-submitter", password: "pw" },
    })
    expect(principalOf(security)).toBe("User:chorus-submitter")
    expect(describeKafkaSecurity(security)).toBe("SASL_SSL (SCRAM-SHA-512 as chorus-submitter)")
    expect(toKafkaJS(security)).toEqual({
      ssl: { ca: [PEM], rejectUnauthorized: true },
      sasl: { mechanism: "scram-sha-512", username: "chorus-submitter", password: "pw" },
    })
  })

  it("takes the CA's PEM text itself, and TLS with the system's CAs from CHORUS_KAFKA_SSL", () => {
    expect(kafkaSecurityFromEnv({ CHORUS_KAFKA_CA: PEM })).toEqual({ ssl: { ca: PEM } })
    expect(kafkaSecurityFromEnv({ CHORUS_KAFKA_SSL: "true" })).toEqual({ ssl: {} })
    expect(kafkaSecurityFromEnv({ CHORUS_KAFKA_SSL: "0" }, { ssl: {} })).toBeUndefined()
  })

  it("refuses half a login, a CA it cannot read, and a contradiction, naming the variable and no secret", () => {
    expect(() => kafkaSecurityFromEnv({ CHORUS_KAFKA_SASL_USERNAME: "u" })).toThrow(
      /CHORUS_KAFKA_SASL_PASSWORD/,
    )
    expect(() => kafkaSecurityFromEnv({ CHORUS_KAFKA_SASL_PASSWORD: "secret-pw" })).toThrow(
      /CHORUS_KAFKA_SASL_USERNAME is not set/,
    )
    try {
      kafkaSecurityFromEnv({ CHORUS_KAFKA_SASL_PASSWORD: "secret-pw" })
    } catch (error) {
      expect(JSON.stringify((error as KafkaConfigError).details)).not.toContain("secret-pw")
      expect((error as Error).message).not.toContain("secret-pw")
    }
    expect(() => kafkaSecurityFromEnv({ CHORUS_KAFKA_CA: join(dir, "missing.pem") })).toThrow(
      KafkaConfigError,
    )
    expect(() => kafkaSecurityFromEnv({ CHORUS_KAFKA_CA: caFile, CHORUS_KAFKA_SSL: "false" })).toThrow(
      /contradicts/,
    )
    expect(() => kafkaSecurityFromEnv({ CHORUS_KAFKA_SSL: "yes please" })).toThrow(/true or false/)
  })
})

describe("the config's bus.kafka", () => {
  const decode = Schema.decodeUnknownSync(KafkaSecurityConfig)

  it("decodes with checking on by default, and resolves env: secrets when the bus is opened", () => {
    const config = decode({
      ssl: { ca: caFile },
      sasl: { username: "chorus-operator", password: "env:OPERATOR_KAFKA_PASSWORD" },
    })
    expect(config.ssl?.rejectUnauthorized).toBe(true)
    expect(config.sasl?.mechanism).toBe("scram-sha-512")
    expect(resolveKafkaSecurity(config, { OPERATOR_KAFKA_PASSWORD: "from-env" })).toEqual({
      ssl: { ca: PEM, rejectUnauthorized: true },
      sasl: { mechanism: "scram-sha-512", username: "chorus-operator", password: "from-env" },
    })
    const unset = () => resolveKafkaSecurity(config, {})
    expect(unset).toThrow(KafkaSecurityConfigError)
    expect(unset).toThrow(/sasl\.password names OPERATOR_KAFKA_PASSWORD, which is not set/)
  })

  it("refuses another mechanism and an empty password", () => {
    expect(() => decode({ sasl: { mechanism: "plain", username: "u", password: "p" } })).toThrow()
    expect(() => decode({ sasl: { username: "u", password: "" } })).toThrow()
  })

  it("is overridden by the environment setting by setting, so one file serves every principal", () => {
    const config = decode({ ssl: { ca: caFile }, sasl: { username: "shared", password: "env:UNSET_ONE" } })
    expect(
      resolveKafkaSecurity(config, {
        CHORUS_KAFKA_SASL_USERNAME: "chorus-submitter",
        CHORUS_KAFKA_SASL_PASSWORD: "x",
      }),
    ).toEqual({
      ssl: { ca: PEM, rejectUnauthorized: true },
      sasl: { mechanism: "scram-sha-512", username: "chorus-submitter", password: "x" },
    })
  })

  it("travels from `chorus run --config` to the bus with the flags, also when --brokers is given", async () => {
    const config = {
      bus: { brokers: ["kafka:9093"], kafka: decode({ sasl: { username: "u", password: "p" } }) },
    }
    const noSecurityEnv = {
      CHORUS_KAFKA_CA: undefined,
      CHORUS_KAFKA_SSL: undefined,
      CHORUS_KAFKA_SASL_USERNAME: undefined,
      CHORUS_KAFKA_SASL_PASSWORD: undefined,
    }
    await withEnv(noSecurityEnv, async () => {
      const fromConfig = busFlagsOrConfig({}, config)
      expect(fromConfig).toEqual({ brokers: "kafka:9093" })
      expect((await kafkaSecurityFromFlags(fromConfig))?.sasl?.username).toBe("u")
      const given = busFlagsOrConfig({ brokers: "other:9093" }, config)
      expect((await kafkaSecurityFromFlags(given))?.sasl?.username).toBe("u")
      expect(await kafkaSecurityFromFlags({ brokers: "other:9093" })).toBeUndefined()
    })
    // Each process logs in as its own principal over the one shared file.
    await withEnv({ ...noSecurityEnv, CHORUS_KAFKA_SASL_USERNAME: "chorus-submitter" }, async () => {
      expect((await kafkaSecurityFromFlags(busFlagsOrConfig({}, config)))?.sasl).toEqual({
        mechanism: "scram-sha-512",
        username: "chorus-submitter",
        password: "p",
      })
    })
  })
})

describe("translateKafkaError for security failures", () => {
  const context = {
    operation: "publish",
    brokers: ["b:9093"],
    topic: "chorus.deliveries",
    principal: "User:chorus-retry",
  }
  const protocolError = (type: string, code: number) =>
    new KafkaJSProtocolError({
      type,
      code,
      retriable: false,
      message: "kafkajs's wording",
    } as unknown as Error)

  it("says who may not do what on which topic or group", () => {
    const topic = translateKafkaError(protocolError("TOPIC_AUTHORIZATION_FAILED", 29), context)
    expect(topic).toBeInstanceOf(KafkaAuthorizationError)
    expect(topic.shortMessage).toBe("User:chorus-retry is not allowed to write topic chorus.deliveries")
    expect(topic.details).toMatchObject({ principal: "User:chorus-retry", topic: "chorus.deliveries" })
    expect(topic.hint).toContain("chorus topics create --acls")

    const group = translateKafkaError(protocolError("GROUP_AUTHORIZATION_FAILED", 30), {
      ...context,
      operation: "subscribe",
      groupId: "chorus.submitter.902",
    })
    expect(group.shortMessage).toBe(
      "User:chorus-retry is not allowed to use consumer group chorus.submitter.902 (to read chorus.deliveries)",
    )
    const anonymous = translateKafkaError(protocolError("TOPIC_AUTHORIZATION_FAILED", 29), {
      operation: "read",
      brokers: ["b:9093"],
      topic: "t",
    })
    expect(anonymous.shortMessage).toMatch(/^this client \(no SASL login.*\) is not allowed to read topic t$/)
  })

  it("names the user whose login was refused, not its password", () => {
    const root = new KafkaJSNonRetriableError("SASL SCRAM SHA512 authentication failed: invalid credentials")
    Object.defineProperty(root, "name", { value: "KafkaJSSASLAuthenticationError" })
    const error = translateKafkaError(root, {
      operation: "connect",
      brokers: ["b:9093"],
      principal: "User:admin",
    })
    expect(error).toBeInstanceOf(KafkaAuthenticationError)
    expect(error.shortMessage).toBe("Kafka refused the SASL login of admin (SCRAM-SHA-512) at b:9093")
  })

  it("tells an untrusted certificate and a wrong host name from an unreachable broker", () => {
    const untrusted = translateKafkaError(
      Object.assign(
        new KafkaJSConnectionError("Connection error: self-signed certificate in certificate chain"),
        {
          code: "SELF_SIGNED_CERT_IN_CHAIN",
          broker: "b:9093",
        },
      ),
      { operation: "connect", brokers: ["b:9093"] },
    )
    expect(untrusted).toBeInstanceOf(KafkaTlsError)
    expect(untrusted.shortMessage).toBe(
      "the certificate of the Kafka broker at b:9093 is not trusted (self-signed certificate in certificate chain)",
    )
    expect(untrusted.hint).toContain("CHORUS_KAFKA_CA")
    const wrongHost = translateKafkaError(
      Object.assign(new KafkaJSConnectionError("Connection error: Hostname/IP does not match"), {
        code: "ERR_TLS_CERT_ALTNAME_INVALID",
      }),
      { operation: "connect", brokers: ["b:9093"] },
    )
    expect(wrongHost.shortMessage).toMatch(/does not name that host/)
    expect(wrongHost.hint).toContain("servername")
    const refused = translateKafkaError(
      new KafkaJSConnectionError("Connection error: connect ECONNREFUSED b:9093"),
      {
        operation: "connect",
        brokers: ["b:9093"],
      },
    )
    expect(refused).toBeInstanceOf(KafkaUnreachableError)
  })
})
