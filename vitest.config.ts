import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                BRIDGE_TOKEN: "test-bridge-token",
                ADMIN_TOKEN: "test-admin-token",
                JWT_SECRET: "test-jwt-secret-0123456789abcdef",
                // The contract tests fire hundreds of claims at once from one
                // isolate; admission control has its own tests with a tight bound.
                COUPON_MAX_IN_FLIGHT: "10000",
              },
            },
          })],
        test: { name: "edge", include: ["test/edge/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        // Bridge, archive and Kafka tests in plain Node: real PostgreSQL when
        // DATABASE_URL is set (else PGlite), kcat's mock cluster unless
        // KAFKA_BROKERS is set, workerd via Miniflare. One file at a time.
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        // wrangler dev + the bridge and archiver processes + Kafka + PostgreSQL/PGlite.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 300_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
