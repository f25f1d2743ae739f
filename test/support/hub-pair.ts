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
    const secretFile = join(hub.dir, 'relay-at-hub.secret');
    writeFileSync(secretFile, 'alice-secret\n', { mode: 0o600 });
    data.upstreams = [
      {
        name: 'hub',
        url: hub.node.discoveryUrl,
        api_root: 'isac',
        auth: { user: 'alice', password_file: secretFile },
        tls: { ca_file: hub.node.devCaPath },
        collections: [...(inbox.polls ?? [])],
      },
    ];
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
