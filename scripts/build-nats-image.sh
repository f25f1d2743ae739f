#!/bin/sh
# Makes the NATS server image deploy/compose.yaml runs, when no registry is reachable.
#
#   scripts/build-nats-image.sh [TAG]      (default TAG: localhost/nats:debian)
#
# It first tries to pull the registry image (NATS_REGISTRY_IMAGE, default
# docker.io/library/nats:2.10) and tags it as TAG. When that fails (no registry answers), it
# makes TAG with buildah from this machine's Debian `nats-server` binary (package nats-server,
# 2.9) and the shared libraries `ldd` lists for it, with the same entrypoint as the registry
# image, so `command: ['-c', '/etc/nats/nats.conf']` works with either. Prints TAG.
set -eu

TAG=${1:-localhost/nats:debian}
REMOTE=${NATS_REGISTRY_IMAGE:-docker.io/library/nats:2.10}

say() { printf 'build-nats-image: %s\n' "$*" >&2; }

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  for pkg in buildah nats-server; do
    if ! dpkg -s "$pkg" >/dev/null 2>&1; then
      say "installing $pkg (Debian package)"
      apt-get install -y "$pkg" >/dev/null
    fi
  done
fi
for cmd in buildah nats-server; do
  command -v "$cmd" >/dev/null 2>&1 || {
    say "$cmd is missing: install the Debian package ${cmd} (apt-get install ${cmd})"
    exit 1
  }
done

say "pulling $REMOTE"
if timeout 120 buildah pull -q "$REMOTE" >/dev/null 2>&1; then
  buildah tag "$REMOTE" "$TAG"
  say "tagged $REMOTE as $TAG"
  printf '%s\n' "$TAG"
  exit 0
fi

BIN=$(readlink -f "$(command -v nats-server)")
say "no registry image; making $TAG from $BIN ($(nats-server --version))"
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$(buildah mount "$ctr")
mkdir -p "$mnt/etc/nats" "$mnt/data" "$mnt/tmp"
chmod 1777 "$mnt/tmp"
cp "$BIN" "$mnt/nats-server"
for lib in $(ldd "$BIN" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' | sort -u); do
  mkdir -p "$mnt$(dirname "$lib")"
  cp -L "$lib" "$mnt$lib"
done
buildah unmount "$ctr" >/dev/null
# as the registry image: the server is the entrypoint, clients on 4222, routes on 6222, monitoring on 8222
buildah config --entrypoint '["/nats-server"]' --cmd '' --port 4222 --port 6222 --port 8222 \
  --label "org.opencontainers.image.description=nats-server $(nats-server --version) from Debian" "$ctr"
buildah commit -q "$ctr" "$TAG" >/dev/null
say "built $TAG"
printf '%s\n' "$TAG"
