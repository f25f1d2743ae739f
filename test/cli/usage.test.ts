/**
 * `relay <command> --help` and option checking as the process behaves: what reaches stdout and
 * stderr, and the exit code (0 for help, 2 for a usage error).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.ts';
import { relay, writeTestConfig, type RelayRun } from '../support/cli.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-cli-usage-');
afterAll(() => cleanup());
let config: string;
beforeAll(() => {
  config = writeTestConfig(dir);
});

/** Runs the argument lists at most `width` at a time (the machine has two cores). */
async function runAll(argvs: readonly string[][], width = 3): Promise<RelayRun[]> {
  const results: RelayRun[] = [];
  let next = 0;
  const worker = async () => {
    while (next < argvs.length) {
      const i = next++;
      results[i] = await relay(argvs[i] as string[]);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

describe('relay <command> --help', () => {
  it("prints that command's usage on stdout and exits 0, for every command", async () => {
    const runs = await runAll(COMMANDS.map((c) => [...c.name.split(' '), '--help']));
    COMMANDS.forEach((c, i) => {
      const run = runs[i] as RelayRun;
      expect(run.stderr, c.name).toBe('');
      expect(run.code, c.name).toBe(0);
      expect(run.stdout.split('\n')[0], c.name).toMatch(new RegExp(`^usage: relay ${c.name}( |$)`));
      expect(run.stdout, c.name).toContain('  -h, --help');
    });
  }, 180_000);

  it('-h after other options, and `relay help <command>`, do the same', async () => {
    const [short, help] = await runAll([
      ['import', '--config', config, '--collection', 'shared', '-h'],
      ['help', 'policy', 'explain'],
    ]);
    expect(short?.code).toBe(0);
    expect(short?.stdout).toMatch(/^usage: relay import --config PATH --collection ID \[--batch-size N\] \[--json\] FILE…\n/);
    expect(help?.code).toBe(0);
    expect(help?.stdout).toMatch(/^usage: relay policy explain --config PATH --member M --object ID \[--collection C\] \[--json\]\n/);
  });
});

describe('option values are checked before anything runs (exit 2)', () => {
  it('quarantine list --limit abc is a usage error naming --limit, not a list of everything', async () => {
    const run = await relay(['quarantine', 'list', '--config', config, '--limit', 'abc']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      [
        'relay quarantine list: --limit expects a positive integer, got "abc"',
        'usage: relay quarantine list --config PATH [--limit N] [--json]',
        '(relay quarantine list --help describes every option)',
        '',
      ].join('\n'),
    );
    const ok = await relay(['quarantine', 'list', '--config', config, '--limit', '5']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('0 quarantined record(s)\n');
  });

  it('an option of another command is unknown here', async () => {
    const run = await relay(['stats', '--config', config, '--limit', '5']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^relay stats: unknown option --limit\n/);
  });
});
