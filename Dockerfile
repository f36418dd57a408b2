# bgp-ts container images.
# Build stage: `npm ci` also builds the one N-API addon (native/, binding.gyp)
# with node-gyp, which needs python3, make and a C compiler; then tsc -> dist/.
# Runtime stage: node:20-bookworm-slim (Debian 12) with dist/, the production
# node_modules and build/Release/*.node only (no compiler, no sources), run
# as the unprivileged "node" user, no setuid or setgid binaries left.
# Targets:
#   docker build -t bgp-ts .                                (the default, last stage: the
#       docker-compose.yml lab, docs/lab.md; no file capabilities)
#   docker build --target kubernetes -t bgp-ts:kubernetes . (deploy/kubernetes/: the node
#       binary carries the file capabilities cap_net_admin and cap_net_bind_service, the
#       only way a non-root process gets the capabilities its pod adds)

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

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/ dist/
COPY --from=build /app/build/Release/*.node build/Release/
COPY config/ config/
RUN find / -xdev -type f -perm /6000 -exec chmod a-s {} +
# BGP (179) and the HTTP API (9179). Port 179 as the unprivileged "node" user
# needs net.ipv4.ip_unprivileged_port_start=0 (the lab sets it) or
# CAP_NET_BIND_SERVICE; programming routes (fib.enabled) needs CAP_NET_ADMIN.
EXPOSE 179 9179
USER node
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["daemon", "--config", "/etc/bgp-ts/bgp-ts.yaml"]

# Kubernetes (deploy/kubernetes/daemonset.yaml): the pod drops every
# capability but NET_ADMIN (the kernel routes, over netlink) and NET_BIND_SERVICE
# (port 179) and runs as "node". Added capabilities reach a non-root process
# only through file capabilities (capabilities(7)), hence setcap. Not in the
# default image: a binary with effective file capabilities fails to exec
# (EPERM) where the container's bounding set lacks one of them, as in the lab.
FROM runtime AS kubernetes
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcap2-bin \
 && setcap cap_net_admin,cap_net_bind_service+ep /usr/local/bin/node \
 && getcap /usr/local/bin/node \
 && apt-get purge -y libcap2-bin && apt-get autoremove -y \
 && rm -rf /var/lib/apt/lists/*
USER node

# The default target (last stage): the image above without file capabilities.
FROM runtime AS lab
