/**
 * A hub and a relay forwarding to it, both real test nodes (node.ts): the hub has a writable
 * inbox, `submissions`, alice may post to; the relay has an upstream `hub` that signs in there as
 * alice and a share inbox whose share-back its forwarder sends on to `submissions`. Callers close
 * both (the relay first).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from './node.ts';

type Adjust = (data: Record<string, any>) => void;

/**
 * An `upstreams` entry for a node subscribing to the test node `at` as its member alice (the
 * secret in a file beside `at`, trusting `at`'s development CA); `extra` adds or overrides keys.
 */
export function upstreamAsAlice(at: TestNode, name: string, extra: Record<string, unknown>): Record<string, unknown> {
  const secretFile = join(at.dir, `alice-at-${name}.secret`);
  writeFileSync(secretFile, 'alice-secret\n', { mode: 0o600 });
  return {
    name,
    url: at.node.discoveryUrl,
    api_root: 'isac',
    auth: { user: 'alice', password_file: secretFile },
    tls: { ca_file: at.node.devCaPath },
    ...extra,
  };
}

/** A hub whose collection `inbox` (alias `submissions`) alice may write to. */
export async function startHub(inbox: string, adjust: Adjust = () => {}): Promise<TestNode> {
  return startTestNode((data) => {
    data.node.title = 'National hub';
    data.api_roots[0].collections.push({ id: inbox, alias: 'submissions', title: 'Member submissions', kind: 'inbox' });
    data.members[0].grants.push({ api_root: 'isac', collection: 'submissions', read: false, write: true });
    adjust(data);
  });
}

export interface ForwardingInbox {
  /** the relay's share inbox (alias `share`, redistributed to `shared`) */
  readonly share: string;
  /** its review_mode, when not the default */
  readonly reviewMode?: string;
  /** the hub collections the relay also polls (none by default) */
  readonly polls?: readonly Record<string, unknown>[];
}

/** A relay forwarding what members share through `share` to the hub's `submissions`. */
export async function startForwardingRelay(hub: TestNode, inbox: ForwardingInbox, adjust: Adjust = () => {}): Promise<TestNode> {
  return startTestNode((data) => {
    data.upstreams = [upstreamAsAlice(hub, 'hub', { collections: [...(inbox.polls ?? [])] })];
    data.shareback = { identity: { name: 'Example ISAC' }, forwarder: { status_poll: '50ms' } };
    data.api_roots[0].collections.push({
      id: inbox.share,
      alias: 'share',
      title: 'Share with the ISAC',
      kind: 'inbox',
      redistribute_to: 'shared',
      ...(inbox.reviewMode ? { review_mode: inbox.reviewMode } : {}),
      forward_to: { upstream: 'hub', collection: 'submissions' },
    });
    adjust(data);
  });
}

/** Every version the hub's collection `inbox` holds, parsed. */
export function heldAtHub(hub: TestNode, inbox: string): any[] {
  const store = hub.node.store;
  const found = store.index.scan({ collection: inbox, after: 0, limit: 10_000, accept: () => true, maxScanned: 100_000 });
  return found.entries.map((e) => JSON.parse(store.bodyOf(e) as string));
}
