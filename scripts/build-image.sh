#!/bin/sh
# Builds the relay container image with buildah (Debian package `buildah`).
#
#   scripts/build-image.sh [TAG]          (default TAG: localhost/relay:latest)
#
# Environment:
#   RELAY_BASE_IMAGE   the base to build FROM (default docker.io/library/node:20-bookworm-slim).
#                      When it cannot be pulled (no registry reachable), the script makes
#                      localhost/relay-node-base:20 from this machine's `node` (Node 20) and the
#                      shared libraries `ldd` lists for it and for lmdb's native module.
#   RELAY_LOCAL_BASE=1 skip the pull and use (or make) the local base.
set -eu

TAG=${1:-localhost/relay:latest}
REMOTE_BASE=${RELAY_BASE_IMAGE:-docker.io/library/node:20-bookworm-slim}
LOCAL_BASE=localhost/relay-node-base:20
REPO=$(cd "$(dirname "$0")/.." && pwd)
RELAY_UID=10001

say() { printf 'build-image: %s\n' "$*" >&2; }

if ! command -v buildah >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing buildah (Debian package)"
    apt-get install -y buildah >/dev/null
  else
    say "buildah is missing: install the Debian package buildah (apt-get install buildah)"
    exit 1
  fi
fi

# --- the build context: compiled JS, the CLI, production node_modules ----------------------
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/relay-image-XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/app/bin" "$STAGE/var-lib/relay"
# the data volume's mount point, owned by the node's user in the image: a new named volume takes
# its owner from it (copy-up), so the node can write its store there without a chown by hand
cat >"$STAGE/var-lib/relay/README" <<'TEXT'
The relay node's data volume: its store (data/), keys, CA (data/pki) and development
certificates (certs/). Back it up with `relay backup DIR` (docs/operations.md).
TEXT
say "compiling TypeScript into the build context"
(cd "$REPO" && npx tsc -p tsconfig.build.json --outDir "$STAGE/app/dist")
# the admin console's page, script and style are served from next to the compiled code
cp -r "$REPO/src/taxii/server/console" "$STAGE/app/dist/taxii/server/"
cp "$REPO/package.json" "$REPO/package-lock.json" "$STAGE/app/"
cp "$REPO/bin/relay.js" "$STAGE/app/bin/relay.js"
cp "$REPO/bin/relay.js" "$STAGE/app/bin/relay" # on PATH as `relay`
chmod 0755 "$STAGE/app/bin/relay" "$STAGE/app/bin/relay.js"
say "copying production dependencies (package-lock.json, dev: false)"
(cd "$REPO" && node -e '
  const { cpSync, existsSync } = require("node:fs");
  const lock = require("./package-lock.json");
  const target = process.argv[1];
  let n = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    // optional packages for other platforms (lmdb-darwin-…) are absent here: skip them
    if (!path.startsWith("node_modules/") || entry.dev || !existsSync(path)) continue;
    cpSync(path, `${target}/${path}`, { recursive: true, dereference: true });
    n++;
  }
  console.error(`build-image: ${n} packages`);
' "$STAGE/app")
# lmdb must load from the context, with no dev dependency beside it
(cd "$STAGE/app" && node -e 'require("lmdb"); console.error("build-image: lmdb loads")' )

# --- the base ------------------------------------------------------------------------------
base=""
if [ "${RELAY_LOCAL_BASE:-0}" != 1 ]; then
  say "pulling $REMOTE_BASE"
  if timeout 120 buildah pull -q "$REMOTE_BASE" >/dev/null 2>&1; then base=$REMOTE_BASE; fi
fi
if [ -z "$base" ]; then
  base=$LOCAL_BASE
  if buildah inspect --type image "$LOCAL_BASE" >/dev/null 2>&1; then
    say "no registry base; using the local base $LOCAL_BASE"
  else
    say "no registry base; making $LOCAL_BASE from $(command -v node) ($(node --version))"
    node -e 'process.exit(process.versions.node.split(".")[0] === "20" ? 0 : 1)' || {
      say "the local base needs Node 20 (this machine has $(node --version))"
      exit 1
    }
    ctr=$(buildah from scratch)
    mnt=$(buildah mount "$ctr")
    NODE_BIN=$(readlink -f "$(command -v node)")
    ENV_BIN=$(readlink -f "$(command -v env)")
    # /var/lib root's, as in the registry base: the Dockerfile adds relay/ in it, owned by the node
    mkdir -p "$mnt/usr/local/bin" "$mnt/usr/bin" "$mnt/etc" "$mnt/tmp" "$mnt/var/lib"
    chmod 1777 "$mnt/tmp"
    cp "$NODE_BIN" "$mnt/usr/local/bin/node"
    cp "$ENV_BIN" "$mnt/usr/bin/env" # bin/relay's "#!/usr/bin/env node"
    # every shared library node, env and lmdb's native module link against, at the path ldd names
    for lib in $(ldd "$NODE_BIN" "$ENV_BIN" "$STAGE"/app/node_modules/@lmdb/lmdb-linux-x64/node.abi115.glibc.node \
      "$STAGE"/app/node_modules/@msgpackr-extract/msgpackr-extract-linux-x64/node.abi115.glibc.node 2>/dev/null |
      awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
      mkdir -p "$mnt$(dirname "$lib")"
      cp -L "$lib" "$mnt$lib"
    done
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nrelay:x:%s:%s:relay node:/var/lib/relay:/usr/sbin/nologin\n' \
      "$RELAY_UID" "$RELAY_UID" >"$mnt/etc/passwd"
    printf 'root:x:0:\nrelay:x:%s:\n' "$RELAY_UID" >"$mnt/etc/group"
    buildah unmount "$ctr" >/dev/null
    buildah config --env PATH=/usr/local/bin:/usr/bin:/bin "$ctr"
    buildah commit -q "$ctr" "$LOCAL_BASE" >/dev/null
    buildah rm "$ctr" >/dev/null
  fi
fi

# --- the image -----------------------------------------------------------------------------
say "building $TAG from $base"
# docker format: OCI images do not carry HEALTHCHECK
buildah bud -q --format docker --layers=false --build-arg "BASE=$base" -t "$TAG" -f "$REPO/Dockerfile" "$STAGE" >/dev/null
say "built $TAG"
printf '%s\n' "$TAG"
