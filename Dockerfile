# relay node image, production-shaped: no member, no secret, no configuration baked in.
#
# Build it with scripts/build-image.sh (buildah): the script compiles the TypeScript, gathers the
# production node_modules (lmdb's prebuilt binary included) into a build context, and picks the
# base: docker.io/library/node:20-bookworm-slim when a registry answers, else a base it makes
# from this machine's Node 20 binary and the shared libraries it needs (BASE=localhost/...).
#
# Run (see docs/operations.md):
#   podman run -v ./relay.yaml:/etc/relay/relay.yaml:ro -v relay-data:/var/lib/relay \
#     -p 8443:8443 localhost/relay
# The config must set `listen: 0.0.0.0:8443` to be reachable from outside the container; the
# image sets no RELAY_LISTEN, so the config's listen is what the node uses. Without a config the
# container exits (code 2) naming /etc/relay/relay.yaml.
#
# The working directory is the data volume: relative paths in the config (the defaults
# data_dir ./data and tls.dev_certs_dir ./certs, and pki.dir = <data_dir>/pki) land on it, so a
# development CA and the node's keys survive re-creating the container.

ARG BASE=docker.io/library/node:20-bookworm-slim
FROM ${BASE}

ENV NODE_ENV=production \
    HOME=/var/lib/relay \
    PATH=/app/bin:/usr/local/bin:/usr/bin:/bin

# app/: dist/ (compiled JS), bin/relay (the CLI), package.json, production node_modules/
COPY app/ /app/
# the data directory, owned by the unprivileged user (uid 10001): copied as an entry of /var/lib
# (not as the destination of a COPY, whose ownership a build may leave to root), so a named
# volume mounted there starts owned by that user
COPY --chown=10001:10001 var-lib/ /var/lib/

WORKDIR /var/lib/relay
USER 10001:10001
VOLUME ["/var/lib/relay"]
EXPOSE 8443

# Ready: store readable, no upstream stopped on refused credentials, NATS connected when
# federated (GET /readyz at the config's listen port, on loopback).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["relay", "ready", "--config", "/etc/relay/relay.yaml"]

ENTRYPOINT ["relay"]
CMD ["start", "--config", "/etc/relay/relay.yaml"]
