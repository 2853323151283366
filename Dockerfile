# The one image every role runs (ROLE=worker | gateway | all).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources directly: keep dev dependencies (tsx is one of them).
RUN npm ci --include=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
USER node
EXPOSE 8080 50051
CMD ["npm", "start"]
