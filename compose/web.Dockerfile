# The web app: Vite build of web/ (the API's base URL baked in at build time), served by nginx, which
# also proxies /api/ to the api. Build from the repository root: docker build -f compose/web.Dockerfile .

FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json .npmrc ./
COPY core/package.json core/
COPY sql/package.json sql/
COPY testkit/package.json testkit/
COPY api/package.json api/
COPY runners/package.json runners/
COPY web/package.json web/
RUN npm ci --ignore-scripts
COPY tsconfig.base.json ./
COPY web ./web
# Where the browser finds the api: same origin through nginx by default.
ARG VITE_API_BASE_URL=/api
ENV VITE_API_BASE_URL=${VITE_API_BASE_URL}
RUN npx vite build web

FROM nginx:1.28-alpine AS runtime
# A template: at start the image writes conf.d/default.conf with ${S3_PUBLIC_ENDPOINT_URL} (the store
# browsers reach, for the Content-Security-Policy) substituted, and no other variable.
ENV S3_PUBLIC_ENDPOINT_URL=http://localhost:9000 \
    NGINX_ENVSUBST_FILTER=^S3_PUBLIC_ENDPOINT_URL$
COPY compose/nginx.conf /etc/nginx/templates/default.conf.template
COPY --from=build /app/web/dist /usr/share/nginx/html
EXPOSE 80
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD wget -q -O /dev/null http://127.0.0.1/healthz || exit 1
