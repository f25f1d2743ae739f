/**
 * Real ATT&CK content through the example configuration, over real HTTPS. Every ATT&CK object
 * carries MITRE's copyright statement marking: a statement restricts nobody, so each object's TLP
 * is the default TLP, and a member receives every object that TLP allows — whether the statement's
 * definition comes with the objects, after them, or in a later import. Marking and extension
 * definitions reach every reader whatever its sector and type filters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashSecret } from '../../../src/auth/index.ts';
import { objectsOfDocument } from '../../../src/ingest/index.ts';
import { TLP2 } from '../../../src/stix/markings.ts';
import { formatTaxiiTimestamp } from '../../../src/stix/time.ts';
import { DATA, jsonFiles } from '../../support/data.ts';
import { ATTACK_STATEMENT, settled, startTestNodeWith, type TestMember, type TestNode } from '../../support/node.ts';

type Obj = Record<string, any>;

const EXAMPLE = new URL('../../../config/relay.example.yaml', import.meta.url);
const ICS = join(DATA, 'mitre-attack/ics-attack-18.1.json');
const ics = objectsOfDocument(JSON.parse(readFileSync(ICS, 'utf8'))) as Obj[];
const statement = ics.find((o) => o.id === ATTACK_STATEMENT) as Obj;
const tlpDefinitions = jsonFiles(join(DATA, 'oasis-common-objects'))
  .flatMap((f) => objectsOfDocument(JSON.parse(readFileSync(f, 'utf8'))) as Obj[])
  .filter((o) => o.type === 'marking-definition' && Object.values(TLP2).includes(o.id));

/** The example configuration (its collections, members and policy), on a temp directory, with test members added. */
function exampleWith(defaultTlp: string, members: Record<TestMember, Obj>) {
  return (dir: string) => {
    const data = parse(readFileSync(EXAMPLE, 'utf8')) as Obj;
    data.listen = '127.0.0.1:0';
    data.data_dir = join(dir, 'data');
    data.tls = { dev_certs_dir: join(dir, 'certs') };
    data.logging = { level: 'silent' };
    data.policy.default_tlp = defaultTlp;
    for (const [id, policy] of Object.entries(members)) {
      data.members.push({
        id,
        name: id,
        credentials: { basic_secret_hash: hashSecret(`${id}-secret`) },
        grants: [{ api_root: 'isac', collection: 'indicators', read: true }],
        policy,
      });
    }
    return data;
  };
}

/** Every object (latest versions) a member receives from the indicators collection, following `next`. */
async function everything(t: TestNode, member: TestMember): Promise<Obj[]> {
  const out: Obj[] = [];
  let next: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await t.get(`/isac/collections/indicators/objects/?limit=1000${next ? `&next=${encodeURIComponent(next)}` : ''}`, member);
    expect(res.status).toBe(200);
    out.push(...(res.body.objects ?? []));
    if (!res.body.more) return out;
    next = res.body.next;
  }
  throw new Error('paging did not end');
}

const ids = (objects: Obj[]) => new Set(objects.map((o) => o.id));

describe('ATT&CK ICS through the example configuration (default TLP AMBER)', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNodeWith(
      exampleWith('amber', {
        alice: { tlp_ceiling: 'amber' },
        bob: { tlp_ceiling: 'green' },
        carol: { tlp_ceiling: 'green', sectors: ['energy'], unscoped: false, allow_types: ['indicator'] },
      }),
    );
    // the objects first, the statement definition last (as the ATT&CK bundle lists it), then the TLP definitions
    const report = t.node.ingestor.ingest('5f3c8e2a-7d41-4b9e-9a53-2c1f0e6d8b47', ics, { source: 'import', detail: ICS });
    expect(report.rejected).toBe(0);
    t.node.ingestor.ingest('5f3c8e2a-7d41-4b9e-9a53-2c1f0e6d8b47', tlpDefinitions, { source: 'import', detail: 'tlp' });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('an AMBER member receives every one of the 1,826 ATT&CK ICS objects (the statement marking is ignored)', async () => {
    const received = ids(await everything(t, 'alice'));
    expect(ics).toHaveLength(1826);
    for (const o of ics) expect(received.has(o.id), o.id).toBe(true);
  });

  it('a GREEN member receives what TLP allows it: the public definitions, not the AMBER-by-default objects', async () => {
    const received = await everything(t, 'bob');
    expect(received.map((o) => o.id).sort()).toEqual([statement.id, ...tlpDefinitions.map((o) => o.id)].sort());
    expect(received.find((o) => o.id === statement.id)).toEqual(statement);
  });

  it('the TLP marking definitions reach a member with unscoped: false and allow_types: [indicator]', async () => {
    const received = ids(await everything(t, 'carol'));
    for (const d of tlpDefinitions) expect(received.has(d.id), d.id).toBe(true);
    expect(received.has(statement.id)).toBe(true);
    expect(received.size).toBe(tlpDefinitions.length + 1);
    const one = await t.get(`/isac/collections/indicators/objects/${TLP2.green}/`, 'carol');
    expect(one.status).toBe(200);
  });
});

describe('ATT&CK ICS with default TLP GREEN, its statement definition arriving in a later import', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNodeWith(
      exampleWith('green', { alice: { tlp_ceiling: 'amber' }, bob: { tlp_ceiling: 'green' }, carol: { tlp_ceiling: 'clear' } }),
    );
    const withoutDefinition = ics.filter((o) => o.id !== ATTACK_STATEMENT);
    t.node.ingestor.ingest('5f3c8e2a-7d41-4b9e-9a53-2c1f0e6d8b47', withoutDefinition, { source: 'upstream', detail: 'hub/page-1' });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it('until the definition arrives, objects carrying the unresolved marking fail closed', async () => {
    expect(await everything(t, 'bob')).toEqual([]);
  });

  it('once it arrives, a GREEN member receives every object, announced again for added_after pollers', async () => {
    const checkpoint = formatTaxiiTimestamp(t.node.store.index.lastAdded('5f3c8e2a-7d41-4b9e-9a53-2c1f0e6d8b47') as number);
    t.node.ingestor.ingest('5f3c8e2a-7d41-4b9e-9a53-2c1f0e6d8b47', [statement], { source: 'upstream', detail: 'hub/page-2' });
    // 1,825 objects to derive again: more than an ingest call derives before it returns
    await settled(t);
    const received = ids(await everything(t, 'bob'));
    for (const o of ics) expect(received.has(o.id), o.id).toBe(true);
    // a poller whose cursor is past the first import receives the re-derived objects again
    const since = await t.get(`/isac/collections/indicators/manifest/?added_after=${encodeURIComponent(checkpoint)}&limit=1000`, 'bob');
    expect(since.status).toBe(200);
    expect(since.body.objects).toHaveLength(1000);
    expect(since.body.more).toBe(true);
    // a CLEAR member receives only what is CLEAR: the public statement definition
    expect((await everything(t, 'carol')).map((o) => o.id)).toEqual([ATTACK_STATEMENT]);
    expect(t.node.store.check().problems).toEqual([]);
  });
});
