#!/bin/sh
# npm run test:image — builds the container image (scripts/build-image.sh) and checks it as an
# operator would use it, with buildah (host network, chroot isolation: no registry, no daemon):
#   - the image carries no configuration, no RELAY_LISTEN, runs as a non-root user, has a
#     health check that calls `relay ready` (/readyz);
#   - without a mounted config, `relay start` exits 2 naming /etc/relay/relay.yaml;
#   - with a mounted config and a host directory as the data volume, the node starts, mints its
#     development CA on the volume, answers /readyz and TAXII discovery over HTTPS (verified
#     against that CA), the health check command exits 0, files on the volume belong to the
#     unprivileged user, and `relay backup` works beside the running node.
# Outside `npm test` (it takes a minute or two).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
TAG=localhost/relay:test
WORK=$(mktemp -d "${TMPDIR:-/tmp}/relay-image-test-XXXXXX")
CTR=""
NODE_PID=""
FAILED=0

say() { printf 'test-image: %s\n' "$*"; }
pass() { printf 'ok   %s\n' "$*"; }
fail() {
  printf 'FAIL %s\n' "$*"
  FAILED=1
}
cleanup() {
  if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
    inner=$(node_in "$NODE_PID" || true)
    [ -n "$inner" ] && kill -KILL "$inner" 2>/dev/null
    kill -KILL "$NODE_PID" 2>/dev/null || true
  fi
  [ -n "$CTR" ] && buildah rm "$CTR" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

run_in() { buildah run --isolation chroot --network host "$@"; }

# `buildah run` does not pass SIGTERM on to what it runs: signal the node process itself, the
# `node` among the descendants of the `buildah run` we started (found by parent pid).
node_in() {
  pids=$1
  depth=0
  while [ -n "$pids" ] && [ $depth -lt 6 ]; do
    for p in $pids; do
      [ "$(ps -o comm= -p "$p" 2>/dev/null)" = node ] && { echo "$p"; return 0; }
    done
    pids=$(for p in $pids; do ps -o pid= --ppid "$p"; done | tr -d ' ')
    depth=$((depth + 1))
  done
  return 1
}
stop_node() {
  inner=$(node_in "$NODE_PID" || true)
  [ -n "$inner" ] && kill -TERM "$inner" 2>/dev/null
  i=0
  while kill -0 "$NODE_PID" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
}

"$REPO/scripts/build-image.sh" "$TAG" >/dev/null

# --- the image's configuration ---------------------------------------------------------------
config_json=$(buildah inspect --type image "$TAG")
user=$(printf '%s' "$config_json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=JSON.parse(s).Docker.config;console.log(c.User)})')
case "$user" in 0 | 0:* | root | root:* | "") fail "image user is '$user' (root)" ;; *) pass "image runs as user $user" ;; esac
printf '%s' "$config_json" | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const c = JSON.parse(s).Docker.config;
    const env = c.Env.join(" ");
    const hc = (c.Healthcheck && c.Healthcheck.Test || []).join(" ");
    const problems = [];
    if (/RELAY_LISTEN|RELAY_DATA_DIR/.test(env)) problems.push("environment overrides config keys: " + env);
    if (!/relay ready --config \/etc\/relay\/relay.yaml/.test(hc)) problems.push("health check is not relay ready: " + hc);
    if (!c.Volumes || !("/var/lib/relay" in c.Volumes)) problems.push("no VOLUME /var/lib/relay");
    console.log(problems.length ? "FAIL " + problems.join("; ") : "ok   no RELAY_LISTEN/RELAY_DATA_DIR in the image; VOLUME /var/lib/relay; health check: " + hc);
    process.exit(problems.length ? 1 : 0);
  });' || FAILED=1

CTR=$(buildah from "$TAG")
# buildah 1.28's chroot isolation mounts the image's VOLUME and a -v bind mount at the same
# path in either order (it varies from run to run): the working container drops the VOLUME
# declaration so the host directory below is what /var/lib/relay is. (The image keeps it.)
buildah config --volume /var/lib/relay- "$CTR"
uid=$(run_in "$CTR" -- node -e 'process.stdout.write(String(process.getuid()))')
[ "$uid" != 0 ] && pass "processes in the container run as uid $uid" || fail "processes run as root"
run_in "$CTR" -- node -e 'require("fs").accessSync("/etc/relay/relay.yaml")' 2>/dev/null &&
  fail "the image contains /etc/relay/relay.yaml" || pass "the image contains no /etc/relay/relay.yaml"
# a new named volume at /var/lib/relay takes the owner of the image's directory (copy-up): it
# must be the node's user, or the node cannot write its store on a volume nobody chowned
# (and nothing above it is the node's)
owners=$(run_in "$CTR" -- node -e 'const fs=require("fs");process.stdout.write(["/var","/var/lib","/var/lib/relay"].map((p)=>fs.statSync(p).uid).join(" "))')
[ "$owners" = "0 0 10001" ] && pass "/var/lib/relay in the image belongs to uid 10001, /var and /var/lib to root (a new named volume there is the node's)" ||
  fail "owners of /var, /var/lib, /var/lib/relay in the image: $owners (want 0 0 10001)"

# --- refuses to start without config ---------------------------------------------------------
set +e
out=$(run_in "$CTR" -- relay start --config /etc/relay/relay.yaml 2>&1)
code=$?
set -e
if [ "$code" -ne 0 ] && printf '%s' "$out" | grep -q 'mount it at /etc/relay/relay.yaml'; then
  pass "without a config: exit $code, says: $(printf '%s' "$out" | grep -o 'in the container image, mount it at /etc/relay/relay.yaml')"
else
  fail "without a config: exit $code, output: $out"
fi

# --- runs with a mounted config --------------------------------------------------------------
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
SECRET=image-test-secret
HASH=$(printf '%s' "$SECRET" | run_in "$CTR" -- relay members hash-secret)
mkdir -p "$WORK/volume"
chown 10001:10001 "$WORK/volume"
mkdir -p "$WORK/etc"
cat >"$WORK/etc/relay.yaml" <<YAML
node:
  id: image-test
  title: Image test relay
listen: 0.0.0.0:$PORT
logging:
  level: info
api_roots:
  - path: isac
    title: Image test
    default: true
    collections:
      - id: 0c5e7a52-3f9b-4c1d-9e8f-7a6b5c4d3e2f
        alias: shared
        title: Shared indicators
members:
  - id: tester
    name: Image test member
    credentials:
      basic_secret_hash: "$HASH"
    grants:
      - api_root: isac
        collection: shared
YAML
chmod 0755 "$WORK/etc"
chmod 0644 "$WORK/etc/relay.yaml"
MOUNTS="-v $WORK/etc:/etc/relay:ro -v $WORK/volume:/var/lib/relay"
# shellcheck disable=SC2086
run_in $MOUNTS "$CTR" -- relay start --config /etc/relay/relay.yaml >"$WORK/node.log" 2>&1 &
NODE_PID=$!

ready=""
i=0
while [ $i -lt 120 ]; do
  if [ -f "$WORK/volume/certs/dev-ca.crt" ] &&
    curl -sf --cacert "$WORK/volume/certs/dev-ca.crt" "https://127.0.0.1:$PORT/readyz" >"$WORK/readyz.json" 2>/dev/null; then
    ready=yes
    break
  fi
  kill -0 "$NODE_PID" 2>/dev/null || break
  sleep 0.5
  i=$((i + 1))
done
if [ -n "$ready" ]; then pass "GET /readyz (no credentials, TLS verified against the dev CA): 200 $(cat "$WORK/readyz.json")"; else
  fail "the node did not become ready; its output:"
  cat "$WORK/node.log"
fi
[ -f "$WORK/volume/certs/dev-ca.crt" ] && pass "development CA minted on the data volume: /var/lib/relay/certs/dev-ca.crt" ||
  fail "no development CA on the data volume"

status=$(curl -s -o "$WORK/discovery.json" -w '%{http_code}' --cacert "$WORK/volume/certs/dev-ca.crt" -u "tester:$SECRET" \
  -H 'Accept: application/taxii+json;version=2.1' "https://127.0.0.1:$PORT/taxii2/" || true)
if [ "$status" = 200 ] && grep -q '"title":"Image test relay"' "$WORK/discovery.json"; then
  pass "TAXII discovery over HTTPS as member tester: 200 $(cat "$WORK/discovery.json")"
else
  fail "TAXII discovery: $status $(cat "$WORK/discovery.json" 2>/dev/null)"
fi
status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/volume/certs/dev-ca.crt" \
  -H 'Accept: application/taxii+json;version=2.1' "https://127.0.0.1:$PORT/taxii2/" || true)
[ "$status" = 401 ] && pass "TAXII discovery without credentials: 401" || fail "TAXII discovery without credentials: $status"

# shellcheck disable=SC2086
if hc=$(run_in $MOUNTS "$CTR" -- relay ready --config /etc/relay/relay.yaml 2>&1); then
  pass "the health check command (relay ready) exits 0: $hc"
else
  fail "the health check command failed: $hc"
fi

owners=$(find "$WORK/volume" -mindepth 1 ! -uid 10001 | head -5)
[ -z "$owners" ] && [ -d "$WORK/volume/data/store" ] && pass "every file on the data volume belongs to uid 10001 ($(cd "$WORK/volume" && ls | tr '\n' ' '))" ||
  fail "files on the volume not owned by uid 10001: $owners"

# shellcheck disable=SC2086
if bk=$(run_in $MOUNTS "$CTR" -- relay backup --config /etc/relay/relay.yaml /var/lib/relay/backups/first 2>&1); then
  pass "relay backup beside the running node: $(printf '%s' "$bk" | head -1)"
else
  fail "relay backup: $bk"
fi

stop_node
if kill -0 "$NODE_PID" 2>/dev/null; then fail "the node did not stop on SIGTERM within 15 s"; else
  if grep -q 'stopped: store closed' "$WORK/node.log"; then pass "SIGTERM: the node stopped and closed its store"; else
    fail "SIGTERM: no clean stop in the log; its end:"
    tail -5 "$WORK/node.log"
  fi
fi
NODE_PID=""

if [ "$FAILED" -ne 0 ]; then
  say "FAILED"
  exit 1
fi
say "all checks passed ($TAG)"
