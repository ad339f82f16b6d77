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
// end-to-end relay tests, which run last and alone. Each project runs after
// the one before it: on a 2-core machine the anvil-heavy unit tests starve
// the broker and the members' heartbeats, and a Kafka test fails by time
// where nothing is wrong.
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
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One more try for a test that fails: a broker on a shared machine
          // can miss a session by time alone. A test that passes only on its
          // second try is named, with its first error, in the CI summary
          // (`.ci/run`), so a real race does not hide behind the retry.
          retry: 1,
        },
      },
      {
        // The whole relay, one file at a time, after the other projects: each
        // file runs three chains and every service.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["test/fixtures/kafka-global-setup.ts"],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          testTimeout: 420_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
