import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTokenKeys, tokenSettings } from '../../src/auth/index.ts';
import { verifyToken } from '../../src/auth/tokens.ts';
import { loadConfig } from '../../src/config/index.ts';
import { formatTaxiiTimestamp, parseTaxiiTimestamp } from '../../src/stix/time.ts';
import { Store } from '../../src/store/index.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { COLLECTIONS } from '../support/node.ts';
import { indicator, tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-cli-');
afterAll(() => cleanup());

let config: string;
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

const bundle = (objects: unknown[]) => ({ type: 'bundle', id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d', objects });
const noSpec = { ...indicator(2), spec_version: undefined };
const badTime = { ...indicator(3), modified: '2022-101-27T13:49:54.326Z' };

beforeAll(() => {
  config = writeTestConfig(dir);
});

describe('relay import', () => {
  it('prints counts stored / duplicate / rejected, with each rejection and its reason', async () => {
    const small = file('small.json', bundle([indicator(1), noSpec, indicator(1), badTime, indicator(4)]));
    const run = await relay(['import', '--config', config, '--collection', 'shared', small]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${small}: 5 objects: 2 stored, 1 duplicate, 2 rejected`);
    expect(run.stdout).toContain(
      `  rejected #1 ${indicator(2).id}: missing required property 'spec_version' (without it the object is STIX 2.0)`,
    );
    expect(run.stdout).toContain(`  rejected #3 ${indicator(3).id}: invalid timestamp in 'modified': '2022-101-27T13:49:54.326Z'`);
    expect(run.stdout).toContain('total: 2 stored, 1 duplicate, 2 rejected');

    // again: everything valid is now a duplicate
    const again = await relay(['import', '--config', config, '--collection', COLLECTIONS.shared, small]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('total: 0 stored, 3 duplicate, 2 rejected');
  });

  it('--json reports per file, and a file that is not JSON fails the run (exit 1) without stopping the others', async () => {
    const good = file('good.json', [indicator(10), indicator(11), badTime]);
    const broken = file('broken.json', '{"type": "bundle", "objects": [');
    const run = await relay(['import', '--config', config, '--collection', 'inbox', '--json', broken, good]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`relay import: ${broken}: not valid JSON`);
    const out = JSON.parse(run.stdout);
    expect(out.collection).toBe(COLLECTIONS.inbox);
    expect(out.files).toEqual([
      { file: broken, objects: 0, stored: 0, duplicate: 0, rejected: [], error: expect.stringMatching(/^not valid JSON/) },
      {
        file: good,
        objects: 3,
        stored: 2,
        duplicate: 0,
        rejected: [{ index: 2, id: indicator(3).id, reason: expect.stringMatching(/invalid timestamp in 'modified'/) }],
      },
    ]);
  });

  it('reports progress on stderr for files larger than one batch', async () => {
    const big = file('big.json', bundle(Array.from({ length: 25 }, (_, i) => indicator(100 + i))));
    const run = await relay(['import', '--config', config, '--collection', 'secret', '--batch-size', '10', big]);
    expect(run.code).toBe(0);
    const progress = run.stderr.trim().split('\n');
    expect(progress.map((l) => l.replace(/ \(\d+ objects\/s\)$/, ''))).toEqual([
      `committed 10/25 objects of ${big}`,
      `committed 20/25 objects of ${big}`,
      `committed 25/25 objects of ${big}`,
    ]);
    expect(run.stdout).toContain('total: 25 stored, 0 duplicate, 0 rejected');
  });

  it('refuses an unknown collection, a missing file list and a bad batch size (exit 2)', async () => {
    const f = file('one.json', [indicator(1)]);
    const unknown = await relay(['import', '--config', config, '--collection', 'nope', f]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown collection "nope"; configured: isac\/shared, isac\/inbox/);
    const none = await relay(['import', '--config', config, '--collection', 'shared']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/name at least one FILE/);
    const batch = await relay(['import', '--config', config, '--collection', 'shared', '--batch-size', '0', f]);
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/^relay import: --batch-size expects a positive integer, got "0"\n/);
  });
});

describe('relay stats and relay check', () => {
  it('stats lists collections with their version counts', async () => {
    const d = tempDir('relay-cli-stats-');
    try {
      const cfg = writeTestConfig(d.dir);
      await relay(['import', '--config', cfg, '--collection', 'shared', file('s.json', [indicator(1), indicator(1, 1), indicator(2)])]);
      const run = await relay(['stats', '--config', cfg]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('object versions stored: 3');
      expect(run.stdout).toMatch(/isac\/shared: 3 versions, added \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \.\. \d{4}-.*Z/);
      const json = JSON.parse((await relay(['stats', '--config', cfg, '--json'])).stdout);
      expect(json).toMatchObject({ objectVersions: 3, collections: [{ collection: COLLECTIONS.shared, versions: 3 }] });
    } finally {
      d.cleanup();
    }
  });

  it('stats --json and check --json give timestamps as RFC 3339 and name each collection by API root and alias beside its id', async () => {
    const d = tempDir('relay-cli-json-');
    try {
      const cfg = writeTestConfig(d.dir);
      await relay(['import', '--config', cfg, '--collection', 'inbox', file('j.json', [indicator(1), indicator(2)])]);
      const store = Store.openInDataDir(join(d.dir, 'data'));
      const [held] = store.stats().collections;
      await store.close();
      const stats = await relay(['stats', '--config', cfg, '--json']);
      expect(stats.code).toBe(0);
      const expected = {
        collection: COLLECTIONS.inbox,
        api_root: 'isac',
        alias: 'inbox',
        title: 'Member inbox',
        versions: 2,
        firstAdded: formatTaxiiTimestamp(held?.firstAdded as number),
        lastAdded: formatTaxiiTimestamp(held?.lastAdded as number),
      };
      // relay import derives everything before it exits: nothing is left queued
      expect(JSON.parse(stats.stdout)).toEqual({
        objectVersions: 2,
        collections: [expected],
        reindexer: { backlog: 0, oldestAgeMs: null, jobs: [] },
      });
      expect(expected.firstAdded).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(parseTaxiiTimestamp(expected.lastAdded)).toBe(held?.lastAdded);

      const check = await relay(['check', '--config', cfg, '--json']);
      expect(check.code).toBe(0);
      expect(JSON.parse(check.stdout)).toEqual({
        ok: true,
        problems: [],
        objectVersions: 2,
        collections: [expected],
        reindexer: { backlog: 0, oldestAgeMs: null, jobs: [], derivedChecked: true },
      });
      const text = await relay(['check', '--config', cfg]);
      expect(text.stdout).toContain(`  isac/inbox (${COLLECTIONS.inbox}): 2 versions`);
    } finally {
      d.cleanup();
    }
  });

  it('check exits 0 on a healthy store and 1, naming the problem, on a corrupted one', async () => {
    const d = tempDir('relay-cli-check-');
    try {
      const cfg = writeTestConfig(d.dir);
      await relay(['import', '--config', cfg, '--collection', 'shared', file('c.json', [indicator(1), indicator(2), indicator(3)])]);
      const healthy = await relay(['check', '--config', cfg]);
      expect(healthy.code).toBe(0);
      expect(healthy.stdout).toContain('store consistent');

      // remove one index entry behind the store's back
      const storePath = join(d.dir, 'data', 'store');
      const store = Store.open(storePath);
      const [entry] = store.versionsOf(COLLECTIONS.shared, indicator(2).id as string);
      await store.close();
      const raw = open({ path: storePath, maxDbs: 64, compression: false });
      raw
        .openDB('index-entries', { sharedStructuresKey: Symbol.for('entry-structures') })
        .removeSync([COLLECTIONS.shared, entry?.dateAdded as number]);
      await raw.close();

      const broken = await relay(['check', '--config', cfg]);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain('store INCONSISTENT');
      expect(broken.stdout).toContain(`version record ${COLLECTIONS.shared} ${indicator(2).id}`);
      expect(broken.stdout).toContain(`collection ${COLLECTIONS.shared}: counter says 3, index holds 2`);
      const json = JSON.parse((await relay(['check', '--config', cfg, '--json'])).stdout);
      expect(json.ok).toBe(false);
      // the version record, the counter, the sector index key and the body of the removed entry
      expect(json.problems).toHaveLength(4);
      expect(json.problems.filter((p: string) => /^sector index key .* matches no entry's filing$/.test(p))).toHaveLength(1);
      expect(json.problems.filter((p: string) => /^body \d+ belongs to no index entry$/.test(p))).toHaveLength(1);
    } finally {
      d.cleanup();
    }
  });
});

describe.concurrent('relay members and relay token', () => {
  it('members list shows members, credential kinds, each policy rule and grants', async ({ expect }) => {
    const run = await relay(['members', 'list', '--config', config]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      [
        'bob  "Bob Ltd"',
        '  credentials: basic, jwt:bob',
        '  TLP ceiling: AMBER',
        '  sectors:     every sector',
        '  floors:      none',
        '  types:       every type',
        '  consent:     attribution none',
        '  grants:      isac/shared read',
        '               isac/inbox write',
      ].join('\n'),
    );
    expect(run.stdout).toMatch(/carol {2}"Carol GmbH"\n {2}credentials: basic\n[\s\S]*grants: {6}none/);
  });

  it('members list names sectors, floors, types and consent as configured, and --json never shows a secret hash', async ({ expect }) => {
    const d = tempDir('relay-cli-members-');
    try {
      const cfg = writeTestConfig(d.dir, (data) => {
        data.members[0].policy = {
          tlp_ceiling: 'white',
          sectors: ['energy', 'utilities'],
          unscoped: false,
          min_confidence: 50,
          min_opinion: 3,
          allow_types: ['indicator', 'relationship'],
          deny_types: ['note'],
          attribution_consent: 'usg',
        };
        data.members[0].credentials.cert_subject = 'alice-cert';
      });
      const run = await relay(['members', 'list', '--config', cfg]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        [
          'alice  "Alice Corp"',
          '  credentials: basic, jwt:alice, cert:alice-cert',
          '  TLP ceiling: CLEAR',
          '  sectors:     energy, utilities (objects without a sector left out)',
          '  floors:      confidence ≥ 50, opinion ≥ 3',
          '  types:       only indicator, relationship; never note',
          '  consent:     attribution usg',
          '  grants:      isac/shared read+write',
          '               isac/inbox read+write',
        ].join('\n'),
      );
      const json = await relay(['members', 'list', '--config', cfg, '--json']);
      expect(json.code).toBe(0);
      const [alice] = JSON.parse(json.stdout);
      expect(alice).toMatchObject({
        id: 'alice',
        credentials: ['basic', 'jwt:alice', 'cert:alice-cert'],
        policy: { tlp_ceiling: 'clear', sectors: ['energy', 'utilities'], unscoped: false, min_confidence: 50, attribution_consent: 'usg' },
      });
      expect(json.stdout).not.toContain('scrypt$');
    } finally {
      d.cleanup();
    }
  });

  it('token issue prints a token that verifies with the node key', async ({ expect }) => {
    const run = await relay(['token', 'issue', 'alice', '--config', config, '--ttl', '1h']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const token = run.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const cfg = loadConfig(config, {});
    const keys = await loadOrCreateTokenKeys(cfg.data_dir);
    await expect(verifyToken(keys, tokenSettings(cfg), token)).resolves.toBe('alice');
    // a signature changed in its first character (its last ones carry unused bits: changing them may change nothing)
    const [head, body, signature = ''] = token.split('.');
    const tampered = `${head}.${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await expect(verifyToken(keys, tokenSettings(cfg), tampered)).rejects.toThrow();
  });

  it('token issue refuses a --ttl that is no duration or longer than auth.max_token_ttl (exit 2)', async ({ expect }) => {
    const bad = await relay(['token', 'issue', 'alice', '--config', config, '--ttl', 'forever']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^relay token issue: --ttl expects a duration such as "30s", "12h" or "7d" \(units: s, m, h, d\), got "forever"/,
    );
    const long = await relay(['token', 'issue', 'alice', '--config', config, '--ttl', '31d']);
    expect(long.code).toBe(2);
    expect(long.stdout).toBe('');
    expect(long.stderr.trim()).toBe('--ttl is longer than auth.max_token_ttl (30d): ask for less, or raise auth.max_token_ttl');
  });

  it('token issue refuses a member without a JWT subject, and an unknown member', async ({ expect }) => {
    const carol = await relay(['token', 'issue', 'carol', '--config', config]);
    expect(carol.code).toBe(2);
    expect(carol.stderr).toMatch(/member "carol" has no credentials\.jwt_subject/);
    const nobody = await relay(['token', 'issue', 'mallory', '--config', config]);
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/unknown member "mallory"/);
  });
});

describe.concurrent('usage and configuration errors (exit 2)', () => {
  it('an unknown command', async ({ expect }) => {
    const run = await relay(['frobnicate', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^unknown command "frobnicate"/);
    expect(run.stderr).toContain('usage: relay <command>');
  });

  it('no command prints usage with exit 2; --help with exit 0', async ({ expect }) => {
    const none = await relay([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('usage: relay <command>');
    const help = await relay(['--help']);
    expect(help.code).toBe(0);
  });

  it('a missing --config', async ({ expect }) => {
    const run = await relay(['stats']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^relay stats: --config PATH is required \(the node's configuration file \(YAML\)\)\nusage: relay stats /);
  });

  it('an unknown option', async ({ expect }) => {
    const run = await relay(['stats', '--config', config, '--frob']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'relay stats: unknown option --frob\nusage: relay stats --config PATH [--json]\n(relay stats --help describes every option)\n',
    );
  });

  it('a bad config file names the key path and what is expected', async ({ expect }) => {
    const d = tempDir('relay-cli-badcfg-');
    try {
      const path = writeTestConfig(d.dir, (data) => {
        data.taxii.max_page_size = 'many';
        data.members[0].grants[0].colection = 'shared';
      });
      const run = await relay(['stats', '--config', path]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`invalid configuration in ${path}`);
      expect(run.stderr).toContain('taxii.max_page_size: Invalid input: expected number, received string');
      expect(run.stderr).toMatch(/members\[0\]\.grants\[0\]\.colection: unknown key; expected one of: api_root, collection, read, write/);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      d.cleanup();
    }
  });

  it('a bad RELAY_LISTEN', async ({ expect }) => {
    const run = await relay(['stats', '--config', config], { env: { RELAY_LISTEN: 'localhost' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('invalid environment override');
    expect(run.stderr).toContain('RELAY_LISTEN: expected "host:port", for example "127.0.0.1:8443"');
  });

  it('a config file that does not exist', async ({ expect }) => {
    const run = await relay(['stats', '--config', join(dir, 'nope.yaml')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot read config file .*nope\.yaml/);
  });
});
