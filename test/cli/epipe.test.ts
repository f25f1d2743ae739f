/**
 * A reader that closes the pipe early (`relay … | head`): the command stops quietly with the
 * status of a process ended by SIGPIPE (141), never with an EPIPE stack trace.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, spawnRelay, writeTestConfig } from '../support/cli.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const BROKEN_PIPE = 141;
const MAIN = 'src/cli/main.ts';

const { dir, cleanup } = tempDir('relay-cli-epipe-');
afterAll(() => cleanup());

let config: string;
beforeAll(() => {
  // enough members that `members list` writes far more than a pipe buffer (64 KiB)
  config = writeTestConfig(dir, (data) => {
    for (let i = 0; i < 3000; i++) {
      data.members.push({ id: `member-${i}`, name: `Member organisation number ${i}`, credentials: { jwt_subject: `member-${i}` } });
    }
  });
});

/** Runs `bash -c SCRIPT` to completion (killed after 60 s). */
function bash(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('relay … | head', () => {
  it('members list | head -n 1: one line, nothing on stderr, exit 141', async () => {
    const relay = `"${process.execPath}" --import tsx ${MAIN}`;
    const run = await bash(`${relay} members list --config '${config}' | head -n 1; echo "relay exited \${PIPESTATUS[0]}"`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`alice  "Alice Corp"\nrelay exited ${BROKEN_PIPE}\n`);
    expect(run.code).toBe(0);
  });

  // The read end of stdout (or stderr) is closed before the child writes its first byte, so every
  // write fails: exit 141 shows the EPIPE was met and handled; a crash would exit 1 or 7.
  const commands = [
    ['--help'],
    ['stats', '--help'],
    ['stats', '--config', 'CONFIG', '--json'],
    ['check', '--config', 'CONFIG'],
    ['check', '--config', 'CONFIG', '--json'],
    ['members', 'list', '--config', 'CONFIG'],
    ['quarantine', 'list', '--config', 'CONFIG', '--json'],
    ['upstreams', '--config', 'CONFIG'],
  ];
  it.each(commands.map((argv) => [argv.join(' '), argv]))('relay %s with stdout closed early stops quietly', async (_, argv) => {
    const { child, done } = spawnRelay((argv as string[]).map((a) => (a === 'CONFIG' ? config : a)));
    child.stdout.destroy();
    const run = await done;
    expect(run.stderr).toBe('');
    expect(run.signal).toBe(null);
    expect(run.code).toBe(BROKEN_PIPE);
  });

  it('an error message to a closed stderr stops quietly too', async () => {
    const { child, done } = spawnRelay(['quarantine', 'list', '--config', config, '--limit', 'abc']);
    child.stderr.destroy();
    const run = await done;
    expect(run.stdout).toBe('');
    expect(run.code).toBe(BROKEN_PIPE);
  });
});
