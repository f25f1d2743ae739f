import { join } from 'node:path';
import fc from 'fast-check';
import { it } from 'vitest';
import { Ingestor } from '../src/ingest/index.ts';
import { DEFAULT_NODE_POLICY } from '../src/policy/types.ts';
import { Store } from '../src/store/index.ts';
import { linkedSteps, runSteps, SECTOR_LABEL } from './support/linked-corpus.ts';
import { tempDir } from './support/stix-fixtures.ts';
const C = '11111111-1111-4111-8111-111111111111';
it('dbg', async () => {
  const seed = -293843695;
  const path = process.env.P as string;
  const [steps] = fc.sample(fc.tuple(linkedSteps({ deletions: true, minLength: 10, maxLength: 60 })), { seed, path, numRuns: 1 })[0]!;
  const t = tempDir('dbg-');
  const store = Store.open(join(t.dir, 'store'));
  const ingestor = new Ingestor(store, { ...DEFAULT_NODE_POLICY, sectorLabels: [SECTOR_LABEL] });
  let i = 0;
  runSteps(steps, store, ingestor, C, () => {
    i++;
    const p = store.check().problems;
    const sums = [...store.links.allSummaries()].map((x) => `${x.id.slice(0, 12)}:${JSON.stringify(x.summary)}`);
    const links = [...store.links.all()].map((k) => `${k[1].slice(0, 12)} ${k[2]} ${k[3].slice(0, 14)}`);
    console.log(`step ${i} sums=${sums.join(' ')}\n   links=${links.join(' | ')}\n   problems=${p.join(';')}`);
  });
  for (const s of steps) console.log(JSON.stringify(s));
});
