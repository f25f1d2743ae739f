/** `relay policy explain` as a child process over a real store: allowed, denied by TLP, denied by sector, redacted. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { nodePolicy } from '../../src/policy/index.ts';
import { Store } from '../../src/store/index.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { COLLECTIONS } from '../support/node.ts';
import { identity, indicator, marked, relationship, TLP2 } from '../support/policy-fixtures.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const energy = identity(1, ['energy'], marked(TLP2.green));
const water = identity(2, ['water'], marked(TLP2.green));
const green = indicator(3, 0, marked(TLP2.green));
const amber = indicator(4, 0, marked(TLP2.amber));
const watery = indicator(5, 0, marked(TLP2.green));
const granular = indicator(6, 0, {
  ...marked(TLP2.green),
  description: 'secret',
  granular_markings: [{ marking_ref: TLP2.red, selectors: ['description'] }],
});
const rels = [
  relationship(7, 'targets', green.id as string, energy.id as string, marked(TLP2.green)),
  relationship(8, 'targets', amber.id as string, energy.id as string, marked(TLP2.green)),
  relationship(9, 'targets', watery.id as string, water.id as string, marked(TLP2.green)),
];

describe('relay policy explain', () => {
  const t = tempDir('relay-explain-');
  let config: string;

  beforeAll(async () => {
    config = writeTestConfig(t.dir, (data) => {
      data.policy = { default_tlp: 'amber' };
      data.members.find((m: any) => m.id === 'alice').policy = { tlp_ceiling: 'green' };
      data.members.find((m: any) => m.id === 'bob').policy = { tlp_ceiling: 'amber', sectors: ['energy'], unscoped: false };
    });
    const store = Store.openInDataDir(join(t.dir, 'data'));
    new Ingestor(store, nodePolicy(loadConfig(config))).ingest(
      COLLECTIONS.shared,
      [energy, water, green, amber, watery, granular, ...rels],
      { source: 'import', detail: 'explain' },
    );
    await store.close();
  });
  afterAll(() => t.cleanup());

  const explain = async (member: string, object: unknown, ...extra: string[]) => {
    const run = await relay([
      'policy',
      'explain',
      '--config',
      config,
      '--member',
      member,
      '--object',
      String(object),
      '--collection',
      'shared',
      ...extra,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return run.stdout;
  };

  it('allowed: every rule passes, sectors come from the targets relationship', async () => {
    const out = await explain('bob', green.id);
    expect(out).toContain('sectors energy');
    expect(out).toMatch(/\[pass\] sector: sector energy is of interest/);
    expect(out).toMatch(/\[pass\] tlp: TLP:GREEN is within the member's ceiling TLP:AMBER/);
    expect(out).not.toContain('[FAIL]');
    expect(out).toMatch(/=> ALLOWED$/m);
  });

  it('denied by TLP', async () => {
    const out = await explain('alice', amber.id);
    expect(out).toMatch(/\[FAIL\] tlp: TLP:AMBER is above the member's ceiling TLP:GREEN/);
    expect(out).toContain('=> DENIED');
    // the same object is allowed to the AMBER member of that sector
    expect(await explain('bob', amber.id)).toMatch(/=> ALLOWED$/m);
  });

  it('denied by sector', async () => {
    const out = await explain('bob', watery.id);
    expect(out).toMatch(/\[FAIL\] sector: sectors water are outside energy/);
    expect(out).toContain('=> DENIED');
    const unscoped = await explain('bob', granular.id);
    expect(unscoped).toMatch(/\[FAIL\] sector: unscoped object and the member takes only its sectors/);
  });

  it('redacted: what would be removed, and the JSON form', async () => {
    const out = await explain('alice', granular.id);
    expect(out).toMatch(/\[pass\] granular: properties marked above TLP:GREEN are removed: description/);
    expect(out).toContain('=> ALLOWED, REDACTED (removed: description)');
    const json = JSON.parse(await explain('alice', granular.id, '--json'));
    expect(json.collections[0]).toMatchObject({ allowed: true, redacted: ['description'] });
  });

  it('relationships: each reference is checked; unknown members and objects are explained', async () => {
    const out = await explain('bob', rels[2]?.id);
    expect(out).toMatch(/\[FAIL\] reference: indicator--\S+ is not visible to the member/);
    expect(out).toMatch(/\[FAIL\] reference: identity--\S+ is not visible to the member/);
    const shown = await explain('bob', rels[0]?.id);
    expect(shown).toMatch(/\[pass\] reference: identity--\S+ is visible to the member/);
    expect(shown).toMatch(/=> ALLOWED$/m);
    expect(out).toContain('=> DENIED');
    const none = await explain('alice', 'indicator--00000000-0000-4000-8000-000000000000');
    expect(none).toContain('the collection does not hold this object');
    const bad = await relay(['policy', 'explain', '--config', config, '--member', 'mallory', '--object', green.id as string]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown member "mallory"');
  });
});

describe('relay import and views', () => {
  it('refuses to import into a view (it holds nothing itself)', async () => {
    const t = tempDir('relay-import-view-');
    try {
      const config = writeTestConfig(t.dir, (data) => {
        data.api_roots[0].collections.push({
          id: '77777777-7777-4777-8777-777777777777',
          alias: 'energy',
          title: 'Energy',
          kind: 'view',
          source: 'shared',
          filter: { sectors: ['energy'] },
        });
      });
      const run = await relay(['import', '--config', config, '--collection', 'energy', '/dev/null']);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('is a view');
    } finally {
      t.cleanup();
    }
  });
});
