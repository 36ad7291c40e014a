# syntax=docker/dockerfile:1
#
# Plugboard's container image. NOT built or run where Plugboard is developed (that machine has no
# Docker): it uses only the steps test/package-install.test.ts runs there on every CI run: npm ci,
# npm pack (whose prepack builds the hub bundle and the compiled JavaScript), and npm install of the
# tarball into an empty directory.
#
#   docker build -t plugboard .
#   docker run -p 4000:4000 -v plugboard-data:/data plugboard

# ---- build: the workspace with dev dependencies, packed into the npm tarball ----
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/server/package.json packages/server/
COPY packages/server/bin packages/server/bin
COPY packages/hub/package.json packages/hub/
# Manifests first, so the dependency layer is reused while only sources change.
RUN npm ci --no-audit --no-fund
COPY . .
RUN mkdir /pack && cd packages/server && npm pack --pack-destination /pack

# ---- runtime: the tarball installed like any npm package, no sources, no dev dependencies ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /pack/ /tmp/pack/
RUN echo '{ "name": "plugboard-runtime", "private": true }' > package.json \
  && npm install --omit=dev --no-audit --no-fund /tmp/pack/*.tgz \
  && rm -rf /tmp/pack \
  && npm cache clean --force \
  && mkdir -p /data \
  && chown node:node /data

# The official image's unprivileged user; the embedded database and master.key live in /data.
USER node
ENV HOST=0.0.0.0 \
    PORT=4000 \
    PLUGBOARD_DATA_DIR=/data
VOLUME /data
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/@plugboard/server/bin/plugboard.js"]
CMD ["serve"]
