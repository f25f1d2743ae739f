/**
 * `relay import` says, per run, how many of the objects it stored no member can receive, and
 * why, in words that name the setting to change (real CLI process, the example configuration).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATA } from '../support/data.ts';
import { REPO, relay } from '../support/cli.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-reach-');
afterAll(() => cleanup());

const EXAMPLE = join(REPO, 'config/relay.example.yaml');
const env = { RELAY_DATA_DIR: join(dir, 'data') };

describe('relay import reports what reaches no member', () => {
  it('names an unknown marking with the config key that maps it, and the default TLP above every ceiling', async () => {
    const opencti = join(DATA, 'opencti-test-bundle/DATA-TEST-STIX2_v2.json');
    const ics = join(DATA, 'mitre-attack/ics-attack-18.1.json');
    const run = await relay(['import', '--config', EXAMPLE, '--collection', 'indicators', opencti, ics], { env });
    expect(run.code).toBe(0);
    // the example member's ceiling is GREEN and unmarked objects are AMBER by default: ATT&CK
    // (only a copyright statement on each object) reaches nobody but for its public statement definition
    expect(run.stdout).toMatch(/^1,869 of 1,876 objects stored reach no member:$/m);
    expect(run.stdout).toContain("  1,857 objects are unmarked (policy.default_tlp: amber), above every reader's tlp_ceiling");
    // OpenCTI's custom "TLP:TEST" marking is no TLP marking the node knows
    expect(run.stdout).toContain(
      '  12 objects carry marking marking-definition--78ca4366-f5b8-4764-83f7-34ce38198e27, unknown: map it in policy.marking_map',
    );
  });

  it('--json carries the same figures', async () => {
    const run = await relay(
      ['import', '--config', EXAMPLE, '--collection', 'share-back', '--json', join(DATA, 'mitre-attack/ics-attack-18.1.json')],
      {
        env,
      },
    );
    expect(run.code).toBe(0);
    const reach = JSON.parse(run.stdout).reach;
    expect(reach).toEqual({
      objects: 1826,
      unreachable: 1826,
      reasons: [{ reason: 'are in a collection no member may read: grant it (members[].grants)', objects: 1826 }],
    });
  });
});
