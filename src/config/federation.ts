/**
 * The `federation` section: the NATS servers, this node's gossip key and the peers it trusts,
 * and the stream, lease, heartbeat and reconciliation settings. Optional: without it the node
 * runs alone.
 */
import { z } from 'zod';
import { parseDuration } from './upstreams.ts';

/** A federation name: one NATS subject token (no dots, wildcards or spaces) and part of a stream name. */
const FEDERATION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A node id as gossip envelopes carry it. */
const FEDERATION_NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const NATS_URL = /^(nats|tls):\/\/(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Federation over NATS (optional: without it the node runs alone). Always mutual TLS. */
export const federationSchema = z
  .strictObject({
    servers: z
      .array(
        z
          .string()
          .regex(NATS_URL, 'expected a NATS server URL "nats://host:port" (or tls://host:port)')
          .refine((v) => !NATS_URL.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'port must be at most 65535'),
      )
      .min(1, 'list at least one NATS server'),
    tls: z.strictObject({
      cert: z.string().min(1).describe("this node's certificate (PEM), e.g. from `relay certs issue node NAME`"),
      key: z.string().min(1).describe('its private key (PEM)'),
      ca: z.string().min(1).describe("CA (PEM) the NATS servers' certificates must chain to"),
    }),
    connect_timeout_seconds: z.number().positive().max(300).default(10),
    name: z
      .string({ error: 'name the federation (e.g. name: isac-eu): the same on every node; it prefixes the NATS subjects and the stream' })
      .regex(
        FEDERATION_NAME,
        'expected letters, digits, "-" or "_" (at most 64): it becomes a NATS subject token and part of the stream name',
      ),
    key_file: z
      .string()
      .min(1)
      .optional()
      .describe("this node's Ed25519 gossip key (owner-only), from `relay federation init`; default <data_dir>/federation/federation.key"),
    peers: z
      .array(
        z
          .strictObject({
            id: z.string().regex(FEDERATION_NODE_ID, 'expected a node id (node.id of that peer)'),
            public_key: z.string().min(1).optional().describe('the SPKI PEM or JWK `relay federation init` printed on that node'),
            public_key_file: z.string().min(1).optional().describe('a file holding it (federation.pub.pem or federation.jwk)'),
          })
          .refine((p) => (p.public_key === undefined) !== (p.public_key_file === undefined), {
            message: "give the peer's key as public_key (inline) or public_key_file, exactly one of them",
          }),
      )
      .default([])
      .describe('the peers whose gossip this node trusts; a node may be listed with several keys while it rotates'),
    revoked_keys: z
      .array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'expected a key id (the 43-character thumbprint `relay federation init` printed)'))
      .default([])
      .describe('key ids never trusted again, even when a peer lists them'),
    egress: z
      .strictObject({
        allow_red: z.boolean().default(false).describe('TLP:RED versions cross to peers'),
        allow_amber_strict: z.boolean().default(false).describe('TLP:AMBER+STRICT versions cross to peers'),
      })
      .default({ allow_red: false, allow_amber_strict: false }),
    stream: z
      .strictObject({
        replicas: z.number().int().min(1).max(5).default(1).describe('JetStream replicas of the gossip stream (3 on a 3-server cluster)'),
        max_age_hours: z
          .number()
          .positive()
          .max(24 * 365)
          .default(7 * 24)
          .describe('how long envelopes stay in the stream'),
        duplicate_window_seconds: z.number().int().min(1).max(3600).default(120).describe('JetStream publish de-duplication window'),
      })
      .default({ replicas: 1, max_age_hours: 7 * 24, duplicate_window_seconds: 120 }),
    leases: z
      .strictObject({
        ttl: z
          .string()
          .regex(/^(\d+)(ms|s|m)$/, 'expected a duration such as "15s" (units: ms, s, m)')
          .refine((v) => parseDuration(v) >= 1000 && parseDuration(v) <= 600_000, 'must be between 1s and 10m')
          .default('15s')
          .describe('how long an upstream or forwarding lease lives unless its holder renews it (every ttl/3)'),
      })
      .default({ ttl: '15s' }),
    heartbeat: z
      .strictObject({
        interval: z
          .string()
          .regex(/^(\d+)(ms|s|m)$/, 'expected a duration such as "5s" (units: ms, s, m)')
          .refine((v) => parseDuration(v) >= 200 && parseDuration(v) <= 600_000, 'must be between 200ms and 10m')
          .default('5s')
          .describe('how often this node tells its peers its status (`relay peers`)'),
      })
      .default({ interval: '5s' }),
    reconcile: z
      .strictObject({
        interval_seconds: z
          .number()
          .positive()
          .max(24 * 3600)
          .default(300)
          .describe(
            'how often this node reconciles its mirror collections with every peer (anti-entropy); also at start and after a partition',
          ),
      })
      .default({ interval_seconds: 300 }),
  })
  .superRefine((f, ctx) => {
    if (f.stream.duplicate_window_seconds > f.stream.max_age_hours * 3600) {
      ctx.addIssue({ code: 'custom', path: ['stream', 'duplicate_window_seconds'], message: 'must not exceed stream.max_age_hours' });
    }
  })
  .optional();

/**
 * What the federation asks of the rest of the file: a node id that gossip envelopes can carry,
 * and peers that are not the node itself.
 */
export function checkFederation(
  federation: z.infer<typeof federationSchema>,
  nodeId: string,
  issue: (path: Array<string | number>, message: string) => void,
): void {
  if (!federation) return;
  if (!FEDERATION_NODE_ID.test(nodeId)) {
    issue(['node', 'id'], 'a federated node id is at most 64 letters, digits, ".", "_" or "-" (gossip envelopes name their origin by it)');
  }
  federation.peers.forEach((p, i) => {
    if (p.id === nodeId) issue(['federation', 'peers', i, 'id'], 'this is the node itself: list only its peers');
  });
}
