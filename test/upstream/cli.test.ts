import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRelay } from '../support/processes.ts';
import { indicators, startScriptedServer, type ScriptedServer } from './scripted-server.ts';
import { caFile, startPoller, type PollerUnderTest } from './support.ts';

describe('relay upstreams and relay quarantine', () => {
  let server: ScriptedServer;
  let b: PollerUnderTest;
  let configPath: string;

  beforeAll(async () => {
    server = await startScriptedServer();
    server.add([...indicators(15, 1), { type: 'indicator', id: 'indicator--bad', spec_version: '2.1' }, ...indicators(4, 1, 2)]);
    server.faults.push({ kind: 'truncate' });
    b = startPoller((dir) => [
      {
        name: 'hub',
        url: server.discoveryUrl,
        tls: { ca_file: caFile(dir, server.caPem) },
        collections: [
          { remote: 'feed', local: 'mirror', page_size: 10 },
          { remote: 'feed', local: 'mirror2', enabled: false },
        ],
      },
    ]);
    await b.manager.pollNow();
    configPath = join(b.dir, 'relay.yaml');
    writeFileSync(configPath, JSON.stringify(b.raw));
  });
  afterAll(async () => {
    await b?.close();
    await server?.close();
  });

  it('relay upstreams shows state, cursor, counts and lag of each subscription', async () => {
    const r = await runRelay(['upstreams', '--config', configPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hub/feed -> mirror: idle');
    expect(r.stdout).toMatch(/last success: \d{4}-\d\d-\d\dT[\d:.]+Z \(lag \d+s\)/);
    expect(r.stdout).toMatch(/cursor: added after \d{4}-[\d\-T:.]+Z, paging by added_after/);
    expect(r.stdout).toContain('objects ingested: 20 (new versions 19, quarantined 1) in 3 pages'); // a full last page is followed by one more request
    expect(r.stdout).toContain('hub/feed -> mirror2: disabled');
    const json = JSON.parse((await runRelay(['upstreams', '--config', configPath, '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json[0]).toMatchObject({
      upstream: 'hub',
      remote: 'feed',
      state: 'idle',
      objectsIngested: 20,
      versionsStored: 19,
      quarantined: 1,
    });
  });

  it('relay quarantine list and show print what was set aside and why', async () => {
    const list = await runRelay(['quarantine', 'list', '--config', configPath]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('2 quarantined record(s)');
    expect(list.stdout).toMatch(/hub\/feed {2}object indicator--bad: /);
    expect(list.stdout).toMatch(/hub\/feed {2}response: json: malformed JSON/);
    const id = /^(\d+) .*indicator--bad/m.exec(list.stdout)?.[1] as string;
    const show = await runRelay(['quarantine', 'show', id, '--config', configPath]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('"objectId": "indicator--bad"');
    expect(show.stdout).toContain('{"type":"indicator","id":"indicator--bad","spec_version":"2.1"}');
    const missing = await runRelay(['quarantine', 'show', '999', '--config', configPath]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no quarantine record "999"');
  });
});
