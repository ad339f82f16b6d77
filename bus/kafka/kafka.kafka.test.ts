/**
 * The bus contract suite against a real Kafka broker (from the `kafka`
 * vitest project's global setup).
 *
 * The harness shortens the consumer timings so the suite runs in seconds:
 * a 6 s session (the broker's minimum by default) bounds how long a crashed
 * member holds its partitions, and short fetch waits let members notice
 * rebalances quickly (kafkajs heartbeats between fetches).
 */
import { busContractSuite } from "../contract/index.ts"
import type { BusPort } from "../port.ts"
import { type KafkaBusOptions, openKafkaBus, simulateCrash } from "./bus.ts"
import { kafkaBrokers } from "./fixtures/brokers.ts"

const options = (): KafkaBusOptions => ({
  brokers: kafkaBrokers(),
  clientId: "chorus-contract",
  logLevel: "error",
  consumer: {
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxWaitTimeMs: 200,
    retryInitialMs: 50,
    retryMaxMs: 1000,
  },
})

busContractSuite("kafka", {
  open: (): Promise<BusPort> => openKafkaBus(options()),
  reopen: (): Promise<BusPort> => openKafkaBus(options()),
  crash: (bus) => simulateCrash(bus),
  timeouts: { waitMs: 30_000, testMs: 120_000 },
})
