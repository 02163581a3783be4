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
                // The contract tests race hundreds of claims through one isolate to test the
                // object itself; test/edge/flash-sale.test.ts tests the bound with its own value.
                COUPON_MAX_IN_FLIGHT: "100000",
                // Every window close reads the catalogue fresh, so a test's rule change applies at once
                // (the cache's 1 s refresh is tested on its own, with an injected clock).
                OFFER_SNAPSHOT_MAX_AGE_MS: "0",
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
