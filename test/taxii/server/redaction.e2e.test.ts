/**
 * Granular redaction with nested selectors, over real HTTPS: AMBER or RED text inside a list
 * (`labels.[0]`, `indicator_types.[1]`, `external_references.[0].url`) never reaches a member
 * whose ceiling is lower, on any read endpoint; the property it points into is removed whole.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TLP1 } from '../../../src/stix/markings.ts';
import { COLLECTIONS, startTestNode, type TestMember, type TestNode } from '../../support/node.ts';
import { indicator } from './fixtures.ts';

let t: TestNode;
const id = `indicator--${randomUUID()}`;
const labels = ['victim: ACME payroll server', 'c2'];
const references = [{ source_name: 'internal', url: 'https://wiki.acme.example/incident/42' }];
const marked = indicator(id, 0, {
  object_marking_refs: [TLP1.green],
  labels,
  indicator_types: ['malicious-activity', 'attribution: ACME insider'],
  external_references: references,
  granular_markings: [
    { marking_ref: TLP1.amber, selectors: ['labels.[0]'] },
    { marking_ref: TLP1.red, selectors: ['indicator_types.[1]'] },
    { marking_ref: TLP1.amber, selectors: ['external_references.[0].url'] },
  ],
});
const base = `/isac/collections/${COLLECTIONS.shared}`;

beforeAll(async () => {
  t = await startTestNode((data) => {
    data.members[1].policy = { tlp_ceiling: 'green' }; // bob
  });
  t.node.ingestor.ingest(COLLECTIONS.shared, [marked], { source: 'import', detail: 'test' });
});
afterAll(async () => {
  await t?.close();
});

/** The member's copy of the indicator from the objects list, the one-object endpoint and match[id]. */
async function copiesFor(member: TestMember): Promise<Array<Record<string, unknown>>> {
  const paths = [`${base}/objects/`, `${base}/objects/${id}/`, `${base}/objects/?match[id]=${id}&match[version]=all`];
  const copies = [];
  for (const path of paths) {
    const res = await t.get(path, member);
    expect(res.status, path).toBe(200);
    const found = (res.body.objects as Array<Record<string, unknown>>).filter((o) => o.id === id);
    expect(found, path).toHaveLength(1);
    copies.push(found[0] as Record<string, unknown>);
  }
  return copies;
}

describe('granular markings with nested selectors', () => {
  it('a GREEN member never receives AMBER or RED text inside lists', async () => {
    for (const copy of await copiesFor('bob')) {
      expect(JSON.stringify(copy)).not.toContain('ACME');
      expect(copy.labels).toBeUndefined();
      expect(copy.indicator_types).toBeUndefined();
      expect(copy.external_references).toBeUndefined();
      expect(copy.granular_markings).toBeUndefined();
      expect(copy.pattern).toBe(marked.pattern);
    }
  });

  it('an AMBER member receives the AMBER-marked lists but not the RED-marked one', async () => {
    for (const copy of await copiesFor('alice')) {
      expect(copy.labels).toEqual(labels);
      expect(copy.external_references).toEqual(references);
      expect(copy.indicator_types).toBeUndefined();
      expect(JSON.stringify(copy)).not.toContain('insider');
    }
  });
});
