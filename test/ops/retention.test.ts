import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.ts';
import { AuditRetention } from '../../src/ops/index.ts';
import { Store } from '../../src/store/index.ts';
import { testConfigData } from '../support/node.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const DAY = 86_400_000;
const { dir, cleanup } = tempDir('relay-retention-');
afterAll(() => cleanup());

describe('audit retention', () => {
  it('removes records older than the retention and keeps the rest, across all three trails', async () => {
    const store = Store.open(join(dir, 'store'));
    try {
      const now = Date.UTC(2026, 11, 1);
      const at = (daysAgo: number) => (now - daysAgo * DAY) * 1000;
      for (const daysAgo of [500, 401, 399, 1]) {
        store.transaction(() => {
          store.audit.noteReceived({ collection: 'c', source: 'upstream', detail: 'hub/x', stored: 1, duplicate: 0 }, at(daysAgo));
          store.audit.noteEvent({ action: 'review.rejected', actor: 'admin', subject: `r-${daysAgo}` }, at(daysAgo));
        });
        await store.audit.noteDelivered(
          { member: 'm', apiRoot: 'r', collection: 'c', count: 1, firstAdded: 1, lastAdded: 1, tlp: {}, sectors: {} },
          at(daysAgo),
        );
      }
      const removed = await new AuditRetention(store, 400).run(now);
      expect(removed).toBe(6);
      const all = { since: 0, until: Number.MAX_SAFE_INTEGER };
      expect(store.audit.eventsIn(all).map((e) => e.subject)).toEqual(['r-399', 'r-1']);
      expect(store.audit.receivedIn(all)).toHaveLength(2);
      expect(store.audit.deliveredIn(all)).toHaveLength(2);
    } finally {
      await store.close();
    }
  });

  it('refuses a retention shorter than a month, naming the key', () => {
    const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
    expect(() => parseConfig({ ...data, audit: { retention_days: 7 } })).toThrow(/audit\.retention_days.*at least 31 days/s);
  });
});
