# syntax=docker/dockerfile:1
#
# GopherPost for Node.js: container image.
#
#   docker build -t gopherpost .
#   docker run --init -p 2525:2525 -p 8080:8080 \
#     -e SMTP_HOSTNAME=mx.example.com -e SMTP_ALLOW_NETWORKS=172.16.0.0/12 \
#     -v gopherpost-spool:/var/lib/gopherpost/spool gopherpost
#
# Only loopback clients may connect while SMTP_ALLOW_NETWORKS and
# SMTP_ALLOW_HOSTS are unset, and inside a container the peers come from the
# bridge network: set SMTP_ALLOW_NETWORKS for the networks that may send.
# Also set SMTP_HOSTNAME; the container's own host name is random.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript, then keep only production dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so this layer is cached until the lock file changes.
# --ignore-scripts: `prepare` runs tsc, and the sources are not copied yet.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: node, the compiled code, production node_modules, non-root ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SMTP_QUEUE_PATH=/var/lib/gopherpost/spool \
    SMTP_HEALTH_ADDR=:8080
WORKDIR /opt/gopherpost
# Code stays root-owned: the daemon (user node) can read it, not change it.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY packaging/docker/healthcheck.mjs ./packaging/docker/healthcheck.mjs
# The spool must exist and belong to `node` before VOLUME, so a new named
# volume is created with that owner and mode.
RUN mkdir -p /var/lib/gopherpost/spool \
 && chown -R node:node /var/lib/gopherpost \
 && chmod 0700 /var/lib/gopherpost /var/lib/gopherpost/spool
USER node
VOLUME /var/lib/gopherpost/spool
# 2525: SMTP (SMTP_PORT). 8080: health, readiness, metrics, audit, admin API.
EXPOSE 2525 8080
# No curl in the slim image: node asks /healthz (see the script).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "packaging/docker/healthcheck.mjs"]
# SIGTERM: stop accepting, finish sessions within the grace period (10 s at
# present), return in-flight deliveries to the queue. Docker's default stop
# timeout is also 10 s: give it more (`docker stop -t 30`, or
# `stop_grace_period: 30s` in compose) so it never SIGKILLs a clean shutdown.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli/main.js", "serve"]
