import { defineConfig } from "vitest/config"

// kafkajs 2.2.4 trips Node 24's TimeoutNegativeWarning inside its request
// queue: harmless, and not fixable without patching kafkajs. Test workers
// inherit this, so the warning does not bury real output.
process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, "--disable-warning=TimeoutNegativeWarning"]
  .filter(Boolean)
  .join(" ")

// Two projects: everything that runs on its own, and the tests that need a
// real Kafka broker, which get one from the global setup (KAFKA_BROKERS,
// testcontainers, or local jars — see test/fixtures/kafka.ts).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: ["**/*.kafka.test.ts", "**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "kafka",
          include: ["**/*.kafka.test.ts"],
          exclude: ["**/node_modules/**"],
          globalSetup: ["test/fixtures/kafka-global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
})
