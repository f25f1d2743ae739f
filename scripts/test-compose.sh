#!/bin/sh
# Runs deploy/compose.yaml the way docs/operations.md ("Deploying with compose") tells an
# operator to, on a copy of deploy/ in a temporary directory, with podman and podman-compose
# (Debian packages), and checks that the federation works:
#
#   - certificates for the three NATS servers and the two nodes from relay's own PKI
#     (`relay certs init` / `relay certs issue`), each node's gossip key from
#     `relay federation init` run in the node's container, the other node's public key as its peer;
#   - `up -d`: both nodes answer /readyz over HTTPS (verified against their development CA);
#   - objects a member posts at relay-a are served to a member of relay-b (gossip over the
#     cluster), and `relay peers` at relay-a sees relay-b;
#   - with one NATS server stopped, objects posted at relay-a still reach relay-b.
#
#   npm run test:compose      (about a minute once the images exist; not part of `npm test`)
#
# The nodes' HTTPS ports are published on 127.0.0.1 only. The NATS image is the registry's
# when one answers, else one made from Debian's nats-server (scripts/build-nats-image.sh).
# Everything the script starts is taken down at the end (`down -v`), whatever happened, unless
# KEEP_WORK=1 (then the containers and the work directory are left for a look).
set -eu

REPO=$(cd "$(dirname "$0")/.." && pwd)
RELAY_TAG=localhost/relay:compose-test
NATS_TAG=localhost/nats:debian
PROJECT=relay-compose-test
COLLECTION=5f3c8e2a-7d41-4b9e-9a53-2c1f0e6d8b47 # deploy/relay-*/relay.yaml: "indicators"
TLP_GREEN=marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da
TAXII='application/taxii+json;version=2.1'
FAILED=0

say() { printf 'test-compose: %s\n' "$*" >&2; }
pass() { printf 'ok   %s\n' "$*"; }
fail() {
  printf 'FAIL %s\n' "$*"
  FAILED=1
}
relay_cli() { (cd "$REPO" && node --import tsx src/cli/main.ts "$@"); }
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# --- tools -----------------------------------------------------------------------------------
for pkg in podman podman-compose; do
  if ! command -v "$pkg" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing $pkg (Debian package)"
      DEBIAN_FRONTEND=noninteractive apt-get install -y "$pkg" >/dev/null
    else
      say "$pkg is missing: install the Debian package $pkg (apt-get install $pkg)"
      exit 1
    fi
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/relay-compose-XXXXXX")
DEPLOY=$WORK/deploy
compose() { (cd "$DEPLOY" && podman-compose -p "$PROJECT" -f compose.yaml "$@"); }
cleanup() {
  if [ -f "$DEPLOY/compose.yaml" ]; then compose down -v >"$WORK/down.log" 2>&1 || cat "$WORK/down.log" >&2; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${KEEP_WORK:-}" ] && trap - EXIT
trap 'exit 130' INT TERM

"$REPO/scripts/build-image.sh" "$RELAY_TAG" >/dev/null
"$REPO/scripts/build-nats-image.sh" "$NATS_TAG" >/dev/null

# Some hosts (this project's CI machines among them) cannot run podman's defaults: no
# CAP_SYS_RESOURCE to raise the open-files and process limits, and hybrid cgroups crun refuses.
# Then the containers run with the host's limits under runc, in a containers.conf of this run.
if ! podman run --rm --no-healthcheck "$RELAY_TAG" --help >"$WORK/probe.log" 2>&1; then
  say "podman's defaults do not run here ($(grep -m1 -o 'crun: .*' "$WORK/probe.log" || tail -1 "$WORK/probe.log")); using runc and the host's limits"
  if ! command -v runc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y runc >/dev/null
    else
      say "runc is missing: install the Debian package runc"
      exit 1
    fi
  fi
  nofile=$(ulimit -Hn)
  cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
  export CONTAINERS_CONF="$WORK/containers.conf"
  podman run --rm --no-healthcheck "$RELAY_TAG" --help >"$WORK/probe.log" 2>&1 || {
    say "podman cannot run a container here:"
    cat "$WORK/probe.log" >&2
    exit 1
  }
fi

cp -r "$REPO/deploy" "$DEPLOY"
rm -rf "$DEPLOY/secrets" "$DEPLOY/relay-a/federation" "$DEPLOY/relay-b/federation"

# --- 1. certificates from relay's PKI (the federation's CA) ----------------------------------
mkdir -p "$WORK/ca"
cat >"$WORK/ca/ca.yaml" <<YAML
node: { id: federation-ca, title: Federation CA }
listen: 127.0.0.1:0
data_dir: $WORK/ca/data
api_roots:
  - path: ca
    title: unused
    collections: [{ id: 00000000-0000-4000-8000-000000000ca0, title: unused }]
members: []
YAML
PKI=$WORK/ca/data/pki
relay_cli certs init --config "$WORK/ca/ca.yaml" >/dev/null
for s in nats-1 nats-2 nats-3; do
  relay_cli certs issue nats "$s" --san "$s" --config "$WORK/ca/ca.yaml" >/dev/null
  mkdir -p "$DEPLOY/secrets/$s"
  cp "$PKI/issued/nats-$s.crt" "$DEPLOY/secrets/$s/server.crt"
  cp "$PKI/issued/nats-$s.key" "$DEPLOY/secrets/$s/server.key"
  cp "$PKI/ca.crt" "$DEPLOY/secrets/$s/ca.crt"
done
for n in relay-a relay-b; do
  relay_cli certs issue node "$n" --config "$WORK/ca/ca.yaml" >/dev/null
  mkdir -p "$DEPLOY/$n/federation/peers"
  cp "$PKI/issued/node-$n.crt" "$DEPLOY/$n/federation/node.crt"
  cp "$PKI/issued/node-$n.key" "$DEPLOY/$n/federation/node.key"
  cp "$PKI/ca.crt" "$DEPLOY/$n/federation/ca.crt"
done
pass "certificates for nats-1..3 and relay-a, relay-b from relay certs (one CA)"

# --- 2. one member on each node (docs/operations.md, "Member onboarding") -------------------
SECRET_A=$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')
SECRET_B=$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')
HASH_A=$(printf '%s' "$SECRET_A" | relay_cli members hash-secret)
HASH_B=$(printf '%s' "$SECRET_B" | relay_cli members hash-secret)
add_member() { # FILE ID HASH WRITE
  node -e '
    const fs = require("fs");
    const [file, id, hash, write] = process.argv.slice(1);
    const text = fs.readFileSync(file, "utf8");
    const member = `members:
  - id: ${id}
    name: Compose test member ${id}
    credentials: { basic_secret_hash: "${hash}" }
    grants: [{ api_root: isac, collection: indicators, read: true, write: ${write} }]
`;
    if (!/^members: \[\]$/m.test(text)) throw new Error(file + ": no \"members: []\" line to replace");
    fs.writeFileSync(file, text.replace(/^members: \[\]$/m, member));
  ' "$1" "$2" "$3" "$4"
}
add_member "$DEPLOY/relay-a/relay.yaml" publisher "$HASH_A" true
add_member "$DEPLOY/relay-b/relay.yaml" reader "$HASH_B" false

PORT_A=$(free_port)
PORT_B=$(free_port)
export NATS_IMAGE=$NATS_TAG RELAY_IMAGE=$RELAY_TAG RELAY_A_PUBLISH=127.0.0.1:$PORT_A RELAY_B_PUBLISH=127.0.0.1:$PORT_B

# --- 3. each node's gossip key, in its container, and the other's public key as its peer -----
chmod -R go-rwx "$DEPLOY/secrets" "$DEPLOY/relay-a/federation" "$DEPLOY/relay-b/federation"
chown -R 10001:10001 "$DEPLOY/relay-a/federation" "$DEPLOY/relay-b/federation"
for n in relay-a relay-b; do
  other=relay-b
  [ "$n" = relay-b ] && other=relay-a
  if ! compose run --rm "$n" federation init --json --config /etc/relay/relay.yaml >"$WORK/init-$n.out" 2>"$WORK/init-$n.err"; then
    fail "relay federation init in $n's container:"
    cat "$WORK/init-$n.out" "$WORK/init-$n.err"
    exit 1
  fi
  # podman-compose prints its own lines around the command's output: take the JSON object
  node -e '
    const fs = require("fs");
    const text = fs.readFileSync(process.argv[1], "utf8");
    const start = text.search(/^\{$/m); // the command prints its object over several lines
    const json = JSON.parse(text.slice(start, text.indexOf("\n}", start) + 2));
    fs.writeFileSync(process.argv[2], json.publicKeyPem);
    console.log(json.keyId);
  ' "$WORK/init-$n.out" "$DEPLOY/$other/federation/peers/$n.pub.pem" >"$WORK/keyid-$n"
  chown 10001:10001 "$DEPLOY/$other/federation/peers/$n.pub.pem"
  pass "relay federation init in $n's container: key $(cat "$WORK/keyid-$n"), given to $other as its peer"
done

# --- 4. up ---------------------------------------------------------------------------------
compose up -d >"$WORK/up.log" 2>&1 || {
  fail "compose up -d:"
  cat "$WORK/up.log"
  exit 1
}
pass "compose up -d: nats-1, nats-2, nats-3, relay-a, relay-b"

# the node mints its development CA on its volume at first start; wait for it, then for /readyz
ready() { # NODE PORT -> the node's dev CA in $WORK/NODE-ca.crt; 0 once /readyz answers 200
  i=0
  while [ $i -lt 120 ]; do
    if podman cp "${PROJECT}_$1_1:/var/lib/relay/certs/dev-ca.crt" "$WORK/$1-ca.crt" >/dev/null 2>&1 &&
      curl -sf --cacert "$WORK/$1-ca.crt" "https://127.0.0.1:$2/readyz" >"$WORK/$1-readyz.json" 2>/dev/null; then
      return 0
    fi
    sleep 1
    i=$((i + 1))
  done
  return 1
}
for node in "relay-a $PORT_A" "relay-b $PORT_B"; do
  set -- $node
  if ready "$1" "$2"; then pass "$1: GET /readyz over HTTPS (its development CA, from its volume): $(cat "$WORK/$1-readyz.json")"; else
    fail "$1 did not become ready in 120 s; its log:"
    podman logs --tail 30 "${PROJECT}_$1_1" 2>&1
    exit 1
  fi
done

# --- 5. gossip: posted at relay-a, served at relay-b ------------------------------------------
post_indicators() { # FIRST COUNT -> HTTP status of the POST at relay-a
  node -e '
    const [first, count, green] = process.argv.slice(1).map((v, i) => (i < 2 ? Number(v) : v));
    const objects = Array.from({ length: count }, (_, k) => {
      const n = first + k;
      const hex = n.toString(16).padStart(12, "0");
      return {
        type: "indicator", spec_version: "2.1", id: `indicator--c0a1b2c3-0000-4000-8000-${hex}`,
        created: "2026-12-01T00:00:00.000Z", modified: "2026-12-01T00:00:00.000Z",
        name: `compose test ${n}`, pattern: `[ipv4-addr:value = '\''198.51.100.${n % 250}'\'']`,
        pattern_type: "stix", valid_from: "2026-12-01T00:00:00Z", object_marking_refs: [green],
      };
    });
    process.stdout.write(JSON.stringify({ objects }));
  ' "$1" "$2" "$TLP_GREEN" >"$WORK/post.json"
  curl -s -o "$WORK/post-status.json" -w '%{http_code}' --cacert "$WORK/relay-a-ca.crt" -u "publisher:$SECRET_A" \
    -H "Accept: $TAXII" -H "Content-Type: $TAXII" --data-binary "@$WORK/post.json" \
    "https://127.0.0.1:$PORT_A/isac/collections/$COLLECTION/objects/" || true
}
count_at_b() {
  curl -s --cacert "$WORK/relay-b-ca.crt" -u "reader:$SECRET_B" -H "Accept: $TAXII" \
    "https://127.0.0.1:$PORT_B/isac/collections/$COLLECTION/manifest/?limit=1000" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log((JSON.parse(s).objects||[]).length)}catch{console.log(-1)}})'
}
reaches_b() { # EXPECTED WHAT
  i=0
  n=-1
  while [ $i -lt 60 ]; do
    n=$(count_at_b)
    [ "$n" = "$1" ] && break
    sleep 1
    i=$((i + 1))
  done
  if [ "$n" = "$1" ]; then pass "$2: relay-b serves its member all $1 objects"; else fail "$2: relay-b serves $n objects, not $1, after 60 s"; fi
}

status=$(post_indicators 1 20)
[ "$status" = 202 ] && pass "a member of relay-a posts 20 TLP:GREEN indicators: 202" || fail "POST at relay-a: $status $(cat "$WORK/post-status.json")"
reaches_b 20 "gossip over the 3-server cluster"

if podman exec "${PROJECT}_relay-a_1" relay peers --json --config /etc/relay/relay.yaml >"$WORK/peers.json" 2>&1 &&
  node -e '
    const s = require("fs").readFileSync(process.argv[1], "utf8");
    const peers = JSON.parse(s.slice(s.indexOf("["), s.lastIndexOf("]") + 1));
    const b = peers.find((p) => p.id === "relay-b" || p.nodeId === "relay-b");
    if (!b) process.exit(1);
    console.log(JSON.stringify({ id: b.id ?? b.nodeId, state: b.state }));
  ' "$WORK/peers.json" >"$WORK/peer-b.json"; then
  pass "relay peers at relay-a (in its container): $(cat "$WORK/peer-b.json")"
else
  fail "relay peers at relay-a does not list relay-b: $(cat "$WORK/peers.json")"
fi

# --- 6. one NATS server down: the cluster keeps its quorum, gossip goes on -------------------
compose stop nats-3 >"$WORK/stop.log" 2>&1 || fail "compose stop nats-3: $(cat "$WORK/stop.log")"
status=$(post_indicators 21 10)
[ "$status" = 202 ] && pass "nats-3 stopped; a member of relay-a posts 10 more: 202" || fail "POST at relay-a with nats-3 down: $status $(cat "$WORK/post-status.json")"
reaches_b 30 "with nats-3 down"

if [ "$FAILED" -ne 0 ]; then
  say "FAILED; relay-a's and relay-b's last log lines:"
  podman logs --tail 20 "${PROJECT}_relay-a_1" 2>&1 || true
  podman logs --tail 20 "${PROJECT}_relay-b_1" 2>&1 || true
  exit 1
fi
say "all checks passed"
