# One image for every Chorus service: `docker run chorus run <service> --config /etc/chorus/chorus.json …`.
#
# Stage 1 builds the contracts' artifacts (solc is a dev dependency); stage 2 installs the runtime
# dependencies alone; the image gets those, the sources and the artifacts, on the Node the project pins
# (package.json's `node` devDependency: keep the two equal, deploy/compose.test.ts checks it). Chorus runs
# its TypeScript on Node's type stripping: there is no compile step.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS contracts
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
# Scripts off: the `node` package would fetch a second Node, anvil a devnet binary; neither is needed here.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY contracts ./contracts
COPY scripts/build-contracts.ts ./scripts/build-contracts.ts
RUN node scripts/build-contracts.ts

FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /opt/chorus
COPY --from=runtime-deps /build/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY bus ./bus
COPY chains ./chains
COPY cli ./cli
COPY contracts ./contracts
COPY --from=contracts /build/contracts/out ./contracts/out
COPY crypto ./crypto
COPY errors ./errors
COPY explorer ./explorer
COPY metrics ./metrics
COPY schemas ./schemas
COPY services ./services
COPY topology ./topology
# Node's compile cache, written once per image: later starts skip stripping and compiling (bin/chorus.js).
ENV NODE_COMPILE_CACHE=/opt/chorus/.compile-cache
RUN node bin/chorus.js --version && node bin/chorus.js topology >/dev/null \
  && chown -R node:node /opt/chorus/.compile-cache
USER node
EXPOSE 9464
ENTRYPOINT ["node", "bin/chorus.js"]
CMD ["--help"]
