# carebot's production image: `docker build -t carebot .`, or `docker compose up` (compose.yaml).
# The same steps as .ci/production-start --omit-dev, which CI runs outside Docker on every run
# (there is no Docker on the build machines): docs/operations.md, "Container".

# Build stage: every dependency (TypeScript is a dev dependency), then src/ compiled to dist/.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# scripts/ before `npm ci`: the postinstall (scripts/patch-postgres.mjs) repairs postgres.js.
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Run stage: the production dependencies only, installed afresh (`npm ci --omit=dev` runs the same
# postinstall, so scripts/ comes along), and dist/ from the build stage.
FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Without DATABASE_URL carebot keeps its embedded database in ./data: mount a volume there.
RUN mkdir -p data && chown node:node data
USER node
EXPOSE 3000
# The slim image has no curl: node's own fetch asks /healthz (200 when the database answers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/main.js"]
