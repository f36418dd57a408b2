# bgp-ts container image (docker-compose.yml lab, docs/lab.md).
# Build stage: `npm ci` also builds the one N-API addon (native/, binding.gyp)
# with node-gyp, which needs python3, make and a C compiler; then tsc -> dist/.
# Runtime stage: node:20-bookworm-slim with dist/, the production
# node_modules and build/Release/*.node only (no compiler, no sources).

FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native/ native/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f build/Release/bgpts_native.node

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY --from=build /app/build/Release/*.node build/Release/
COPY config/ config/
# BGP (179) and the HTTP API (9179). Port 179 as the unprivileged "node" user
# needs net.ipv4.ip_unprivileged_port_start=0 (the lab sets it) or
# CAP_NET_BIND_SERVICE; programming routes (fib.enabled) needs CAP_NET_ADMIN.
EXPOSE 179 9179
USER node
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["daemon", "--config", "/etc/bgp-ts/bgp-ts.yaml"]
