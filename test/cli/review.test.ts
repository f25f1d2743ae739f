/**
 * `relay review list|show|approve|reject` as a child process over a real store: review items
 * seeded the way the share-back processor opens them; verdicts recorded with `by`; unknown ids
 * and decided items refused with exit 2; `--json` prints the views the admin API answers.
 */
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { Ingestor } from '../../src/ingest/index.ts';
import { showReview } from '../../src/shareback/desk.ts';
import { Store, type ReviewItem } from '../../src/store/index.ts';
import { relay, writeTestConfig } from '../support/cli.ts';
import { COLLECTIONS } from '../support/node.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-cli-review-');
afterAll(() => cleanup());

const EMAIL = 'maria.garcia@acme-bank.example';
let configPath: string;
let seq = 0;

beforeAll(() => {
  configPath = writeTestConfig(dir);
});

/** Runs fn on the node's store (closed afterwards, so a child process sees everything). */
async function withStore<T>(fn: (store: Store) => T): Promise<T> {
  const store = Store.openInDataDir(loadConfig(configPath).data_dir);
  try {
    return fn(store);
  } finally {
    await store.close();
  }
}

function indicator(n: number) {
  const description = `Reported by ${EMAIL} after the phishing wave.`;
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--7b2e8d6f-2a66-4f9f-8b62-${String(n).padStart(12, '0')}`,
    created: '2026-05-02T10:00:00.000Z',
    modified: '2026-05-02T10:00:00.000Z',
    name: 'Phishing sender',
    pattern: "[domain-name:value = 'pay-secure.example']",
    pattern_type: 'stix',
    valid_from: '2026-05-02T10:00:00.000Z',
    description,
  };
}

/** An indicator of `member` in the inbox and its open review item. */
async function openItem(member = 'alice'): Promise<{ item: ReviewItem; object: ReturnType<typeof indicator> }> {
  const object = indicator(++seq);
  const item = await withStore((store) => {
    new Ingestor(store).ingest(COLLECTIONS.inbox, [object], { source: 'taxii', detail: member });
    const entry = store.latestOf(COLLECTIONS.inbox, object.id);
    if (!entry) throw new Error('the object was not stored');
    const start = object.description.indexOf(EMAIL);
    return store.transaction(() =>
      store.shareback.openReview({
        member,
        apiRoot: 'isac',
        inbox: COLLECTIONS.inbox,
        statusId: `status-${seq}`,
        object: { id: entry.id, version: entry.version, dateAdded: entry.dateAdded },
        decision: 'release-without',
        withheld: ['description'],
        findings: [{ path: 'description', kind: 'email', start, end: start + EMAIL.length }],
      }),
    );
  });
  return { item, object };
}

const review = (...args: string[]) => relay(['review', ...args, '--config', configPath]);
const stored = (id: string) => withStore((store) => store.shareback.review(id));

describe('relay review', () => {
  it('list prints the open items, narrowed by --state and --member; --json the API view', async () => {
    const a = await openItem('alice');
    const b = await openItem('bob');
    const text = await review('list');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${a.item.id}  open  alice  ${a.object.id}  release-without  email  `, 'm'));
    expect(text.stdout).toContain(b.item.id);

    const json = await review('list', '--json', '--member', 'bob', '--state', 'open,failed');
    expect(json.code, json.stderr).toBe(0);
    const { reviews } = JSON.parse(json.stdout);
    expect(reviews.map((r: any) => r.id)).toEqual([b.item.id]);
    expect(reviews[0]).toMatchObject({
      state: 'open',
      member: 'bob',
      object: { id: b.object.id, type: 'indicator' },
      withheld: ['description'],
    });
    expect(json.stdout).not.toContain(EMAIL);

    const none = await review('list', '--json', '--state', 'rejected');
    expect(JSON.parse(none.stdout).reviews.map((r: any) => r.id)).not.toContain(a.item.id);
    const bad = await review('list', '--state', 'pending');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--state "pending": expected some of open, decided/);
  });

  it('show prints the findings with the flagged text and the submitted object; --json is the desk view', async () => {
    const { item, object } = await openItem();
    const text = await review('show', item.id);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`review ${item.id}: open`);
    expect(text.stdout).toContain(`description  email  [12, 42)  "${EMAIL}"`);
    expect(text.stdout).toContain(`"id": "${object.id}"`);
    const json = await review('show', item.id, '--json');
    const view = JSON.parse(json.stdout);
    expect(view.submitted).toEqual(object);
    expect(view).toEqual(await withStore((store) => showReview(store, item.id)));
  });

  it('approve records the verdict with the note, the edited object and who decided (cli:<user> by default)', async () => {
    const { item, object } = await openItem();
    const edited = { ...object, description: 'Reported by a customer after the phishing wave.' };
    const file = join(dir, 'edited.json');
    writeFileSync(file, JSON.stringify(edited));
    const run = await review('approve', item.id, '--note', 'customer name removed', '--edited', file, '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: item.id, state: 'decided', verdict: { verdict: 'approve', edited: true } });
    const after = await stored(item.id);
    expect(after?.state).toBe('decided');
    expect(after?.verdict).toMatchObject({ verdict: 'approve', by: `cli:${userInfo().username}`, note: 'customer name removed', edited });

    const plain = await openItem();
    const named = await review('approve', plain.item.id, '--by', 'duty-analyst');
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toContain(`${plain.item.id} approved by duty-analyst`);
    expect((await stored(plain.item.id))?.verdict).toMatchObject({ verdict: 'approve', by: 'duty-analyst' });
  });

  it('reject records the verdict with its note', async () => {
    const { item } = await openItem();
    const run = await review('reject', item.id, '--note', 'a private person', '--by', 'duty-analyst');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${item.id} rejected by duty-analyst`);
    expect((await stored(item.id))?.verdict).toMatchObject({ verdict: 'reject', by: 'duty-analyst', note: 'a private person' });
  });

  it('an unknown id, an item already decided and an edit of another object are errors (exit 2); nothing changes', async () => {
    const unknown = await review('show', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no review item "00000000-0000-4000-8000-000000000000" \(see relay review list\)/);
    expect((await review('approve', '00000000-0000-4000-8000-000000000000')).code).toBe(2);

    const { item, object } = await openItem();
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ ...object, id: 'indicator--00000000-0000-4000-8000-000000000000' }));
    const wrongEdit = await review('approve', item.id, '--edited', other);
    expect(wrongEdit.code).toBe(2);
    expect(wrongEdit.stderr).toMatch(/edited object's id/);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{"type": ');
    expect((await review('approve', item.id, '--edited', notJson)).stderr).toMatch(/not valid JSON/);
    expect((await stored(item.id))?.state).toBe('open');

    expect((await review('reject', item.id, '--by', 'first')).code).toBe(0);
    const again = await review('approve', item.id, '--by', 'second');
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`review item "${item.id}" is decided`));
    expect((await stored(item.id))?.verdict).toMatchObject({ verdict: 'reject', by: 'first' });
  });
});
