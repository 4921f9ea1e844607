# One image for the four services: `docker compose` runs it with a different command per service.

# --- build: every dependency, then the TypeScript project references (shared + the four services) ---
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY shared/package.json shared/tsconfig.json shared/
COPY ride-service/package.json ride-service/tsconfig.json ride-service/
COPY driver-service/package.json driver-service/tsconfig.json driver-service/
COPY payment-service/package.json payment-service/tsconfig.json payment-service/
COPY notification-service/package.json notification-service/tsconfig.json notification-service/
RUN npm ci --no-audit --no-fund
COPY shared/src shared/src
COPY ride-service/src ride-service/src
COPY driver-service/src driver-service/src
COPY payment-service/src payment-service/src
COPY notification-service/src notification-service/src
RUN npx tsc -b

# --- runtime: production dependencies only, compiled JavaScript, no compiler, not root ---
FROM node:26-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY ride-service/package.json ride-service/
COPY driver-service/package.json driver-service/
COPY payment-service/package.json payment-service/
COPY notification-service/package.json notification-service/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/shared/dist shared/dist
COPY --from=build /app/ride-service/dist ride-service/dist
COPY --from=build /app/driver-service/dist driver-service/dist
COPY --from=build /app/payment-service/dist payment-service/dist
COPY --from=build /app/notification-service/dist notification-service/dist
USER node
# SERVICE picks the workspace to run; `exec` makes node PID 1's only child so SIGTERM reaches it (graceful shutdown).
ENV SERVICE=ride-service
CMD ["sh", "-c", "exec node \"$SERVICE/dist/main.js\""]
