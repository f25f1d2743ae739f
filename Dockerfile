# relay node: multi-stage build, runs as a non-root user with its store on a volume.
# Build:  docker build -t relay .
# Run:    docker run -p 8443:8443 -v relay-data:/var/lib/relay relay
#         (mount your own config at /etc/relay/relay.yaml and TLS files to leave development mode)

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    RELAY_LISTEN=0.0.0.0:8443 \
    RELAY_DATA_DIR=/var/lib/relay
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY config/relay.example.yaml /etc/relay/relay.yaml
RUN groupadd --system relay && useradd --system --gid relay --home-dir /var/lib/relay relay \
 && mkdir -p /var/lib/relay /app/certs && chown relay:relay /var/lib/relay /app/certs
USER relay
VOLUME ["/var/lib/relay"]
EXPOSE 8443
# Healthy when the TAXII server answers at all (401 without credentials is an answer).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "require('https').get({host:'127.0.0.1',port:8443,path:'/taxii2/',rejectUnauthorized:false},r=>process.exit(r.statusCode<500?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "bin/relay.js"]
CMD ["start", "--config", "/etc/relay/relay.yaml"]
