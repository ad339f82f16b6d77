import { defineConfig } from "vitest/config"

// kafkajs 2.2.4 trips Node 24's TimeoutNegativeWarning inside its request
// queue: harmless, and not fixable without patching kafkajs. Test workers
// inherit this, so the warning does not bury real output.
process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, "--disable-warning=TimeoutNegativeWarning"]
  .filter(Boolean)
  .join(" ")

// Three projects: everything that runs on its own; the tests that need a
// real Kafka broker, which get one from the global setup (KAFKA_BROKERS,
// testcontainers, or local jars — see test/fixtures/kafka.ts); and the
// end-to-end relay tests, which run last and alone.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: ["**/*.kafka.test.ts", "test/e2e/**", "**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "kafka",
          include: ["**/*.kafka.test.ts"],
          exclude: ["test/e2e/**", "**/node_modules/**"],
          globalSetup: ["test/fixtures/kafka-global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        // The whole relay, one file at a time, after the other projects: each
        // file runs three chains and every service, and on a 2-core machine
        // sharing the CPU with anvil-heavy unit tests starves Kafka sessions.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["test/fixtures/kafka-global-setup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 420_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
