/** Objects members share, and the calls that share them, for share-back through real nodes (see ../support/node.ts). */
import { expect } from 'vitest';
import { TAXII, type TestMember, type TestNode } from '../support/node.ts';

/** A member organization's identity, created and last modified at `at`. */
export function organization(id: string, name: string, at: string) {
  return { type: 'identity', spec_version: '2.1', id, created: at, modified: at, name, identity_class: 'organization' };
}

/** An indicator created by `by` at `at` (and valid from then). */
export function memberIndicator(id: string, by: string, pattern: string, at: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id,
    created: at,
    modified: at,
    created_by_ref: by,
    pattern,
    pattern_type: 'stix',
    valid_from: at,
    ...extra,
  };
}

/** Posts `objects` to `collection` as `member`; the node must accept them (202). Returns the status resource. */
export async function postObjects(t: TestNode, collection: string, member: TestMember, objects: unknown[]): Promise<any> {
  const res = await t.request(`/isac/collections/${collection}/objects/`, {
    method: 'POST',
    member,
    headers: { 'content-type': TAXII, accept: TAXII },
    body: JSON.stringify({ objects }),
  });
  expect(res.status).toBe(202);
  return res.json();
}

/** Waits (bounded) until the node's share-back processor has taken every submission. */
export async function submissionsProcessed(t: TestNode): Promise<void> {
  for (let i = 0; i < 300 && t.node.shareback.backlog().submissions > 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(t.node.shareback.backlog().submissions).toBe(0);
}
