import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
        test: { name: "edge", include: ["test/edge/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        // Archive and Kafka tests in plain Node: real PostgreSQL when DATABASE_URL
        // is set (else PGlite), kcat's mock cluster unless KAFKA_BROKERS is set.
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
