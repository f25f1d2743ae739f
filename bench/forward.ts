/**
 * Share-back forwarding latency: from a member's POST to an inbox until the object is stored at
 * the hub. The hub is a second relay node with a writable inbox; both nodes run in this process
 * on loopback (they share its event loop), with the forwarder's default settings. Members post
 * one clean indicator per request at a steady pace; arrival is the hub's version-stored event.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { Agent, fetch } from 'undici';
import { hashSecret } from '../src/auth/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { startNode, type RelayNode } from '../src/node.ts';
import { percentile, round, type BenchContext } from './context.ts';

const HUB_INBOX = '0f0f0f0f-0000-4000-8000-00000000f0f0';
const MIRROR = '0f0f0f0f-0000-4000-8000-00000000f0f1';
const SHARE = '0f0f0f0f-0000-4000-8000-00000000f0f2';
const TAXII = 'application/taxii+json;version=2.1';
const SECRET = 'bench-secret';

export interface ForwardLatency {
  readonly objects: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** objects posted but not at the hub when the wait ended */
  readonly missing: number;
}

function nodeData(dir: string, title: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    node: { id: title.toLowerCase().replace(/\W+/g, '-'), title },
    listen: '127.0.0.1:0',
    data_dir: join(dir, 'data'),
    tls: { dev_certs_dir: join(dir, 'certs') },
    logging: { level: 'silent' },
    policy: { default_tlp: 'green' },
    ...extra,
  };
}

const member = (id: string, grants: unknown[], policy: Record<string, unknown> = {}) => ({
  id,
  name: `${id} organization`,
  credentials: { basic_secret_hash: hashSecret(SECRET) },
  policy: { tlp_ceiling: 'amber', ...policy },
  grants,
});

/** POSTs `count` objects at `perSecond`, then waits (bounded) until the hub holds them all. */
export async function measureForwardLatency(ctx: BenchContext, count: number, perSecond: number): Promise<ForwardLatency> {
  const hubDir = ctx.tempDir('forward-hub');
  const relayDir = ctx.tempDir('forward-relay');
  let hub: RelayNode | undefined;
  let relay: RelayNode | undefined;
  const agents: Agent[] = [];
  try {
    hub = await startNode(
      parseConfig(
        nodeData(hubDir, 'Bench hub', {
          api_roots: [
            { path: 'hub', title: 'Hub', collections: [{ id: HUB_INBOX, alias: 'submissions', title: 'Submissions', kind: 'inbox' }] },
          ],
          members: [member('isac-relay', [{ api_root: 'hub', collection: 'submissions', read: false, write: true }])],
        }),
        'bench hub config',
      ),
      pino({ level: 'silent' }),
    );
    const secretFile = join(relayDir, 'hub.secret');
    writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
    relay = await startNode(
      parseConfig(
        nodeData(relayDir, 'Bench relay', {
          upstreams: [
            {
              name: 'hub',
              url: hub.discoveryUrl,
              api_root: 'hub',
              auth: { user: 'isac-relay', password_file: secretFile },
              tls: { ca_file: hub.devCaPath },
              collections: [],
            },
          ],
          api_roots: [
            {
              path: 'isac',
              title: 'ISAC',
              collections: [
                { id: MIRROR, alias: 'shared', title: 'Shared' },
                {
                  id: SHARE,
                  alias: 'share',
                  title: 'Share',
                  kind: 'inbox',
                  redistribute_to: 'shared',
                  forward_to: { upstream: 'hub', collection: 'submissions' },
                },
              ],
            },
          ],
          // attributed towards the hub: the hub receives the object as posted (its id is the key here)
          members: [
            member('sharer', [{ api_root: 'isac', collection: 'share', read: false, write: true }], { attribution_consent: 'usg' }),
          ],
        }),
        'bench relay config',
      ),
      pino({ level: 'silent' }),
    );

    const postedAt = new Map<string, number>();
    const latencies: number[] = [];
    hub.ingestor.onVersionStored((v) => {
      const at = postedAt.get(v.id);
      if (v.collection === HUB_INBOX && at !== undefined) latencies.push(performance.now() - at);
    });
    if (!relay.devCaPath) throw new Error('the bench relay has no development CA');
    const ca = readFileSync(relay.devCaPath, 'utf8');
    const agent = new Agent({ connect: { ca }, keepAliveTimeout: 10_000 });
    agents.push(agent);
    const auth = `Basic ${Buffer.from(`sharer:${SECRET}`).toString('base64')}`;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const id = `indicator--${(0xb0000000 + i).toString(16)}-0000-4000-8000-${String(i).padStart(12, '0')}`;
      const now = new Date().toISOString();
      const object = {
        type: 'indicator',
        spec_version: '2.1',
        id,
        created: now,
        modified: now,
        pattern: `[ipv4-addr:value = '198.18.${(i >> 8) & 255}.${i & 255}']`,
        pattern_type: 'stix',
        valid_from: now,
      };
      postedAt.set(id, performance.now());
      const res = await fetch(`${relay.baseUrl}/isac/collections/${SHARE}/objects/`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: auth, 'content-type': TAXII, accept: TAXII },
        body: JSON.stringify({ objects: [object] }),
      });
      if (res.status !== 202) throw new Error(`the relay answered ${res.status} to a share-back POST: ${await res.text()}`);
      await res.arrayBuffer();
    }
    for (let i = 0; i < 600 && latencies.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      objects: count,
      p50Ms: round(percentile(sorted, 50), 1),
      p99Ms: round(percentile(sorted, 99), 1),
      maxMs: round(sorted[sorted.length - 1] ?? 0, 1),
      missing: count - latencies.length,
    };
  } finally {
    for (const a of agents) await a.close();
    await relay?.close();
    await hub?.close();
  }
}
