# The one image every role runs (ROLE=worker | gateway | all).
# Build stage: compile TypeScript to dist/ with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --include=dev --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/
COPY proto ./proto
COPY src ./src
RUN npm run build

# Run stage: the compiled output and production dependencies only (no tsx, no compiler).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY proto ./proto
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8080 50051
CMD ["node", "dist/main.js"]
