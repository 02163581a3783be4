# syntax=docker/dockerfile:1
# The rushgate Node services, one image per target (docs/operations.md):
#   docker build --target bridge   -t rushgate-bridge .
#   docker build --target archiver -t rushgate-archiver .
# Both run their .ts entry points directly with Node 22's type stripping: no build
# step, the image holds the same files as the repository. All configuration comes
# from the environment at `docker run` time; nothing secret is baked in.

ARG NODE_IMAGE=node:22-bookworm-slim

# Production dependencies only, resolved exactly from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# What both services share: tini as PID 1 (forwards SIGTERM to node and reaps
# zombies, so a stop is graceful), the code, and an unprivileged user.
FROM ${NODE_IMAGE} AS base
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY workers ./workers
COPY src/lib ./src/lib
COPY drizzle ./drizzle
# The embedded archive (PGlite), when there is no DATABASE_URL: mount a volume here.
RUN mkdir -p /data && chown node:node /data
ENV ARCHIVE_DIR=/data/archive
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]

# The Kafka bridge: relay shards → Kafka, inbound topics → the Worker.
# Needs BRIDGE_TOKEN, WORKER_URL and KAFKA_BROKERS.
FROM base AS bridge
ENV BRIDGE_HOST=0.0.0.0 BRIDGE_PORT=9464
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "workers/healthcheck.mjs", "BRIDGE_PORT"]
CMD ["node", "--import", "./workers/preflight.mjs", "workers/kafka-bridge/index.ts"]

# The archiver: Kafka → PostgreSQL. Needs KAFKA_BROKERS and DATABASE_URL.
FROM base AS archiver
ENV ARCHIVER_HOST=0.0.0.0 ARCHIVER_PORT=9465
EXPOSE 9465
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "workers/healthcheck.mjs", "ARCHIVER_PORT"]
CMD ["node", "--import", "./workers/preflight.mjs", "workers/archiver/index.ts"]
