import { defineConfig } from "vitest/config"

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
