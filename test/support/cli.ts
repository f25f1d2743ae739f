/**
 * Runs the real `relay` command (`node --import tsx src/cli/main.ts …`) as a child process, with
 * a config file written from the test harness's testConfigData(). Every child is awaited; one
 * that outlives its timeout is killed (SIGKILL) and reported as such.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { testConfigData } from './node.ts';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(REPO, 'src', 'cli', 'main.ts');

/** Writes `<dir>/relay.yaml` (data in `<dir>/data`) and returns its path. */
export function writeTestConfig(dir: string, adjust: (data: Record<string, any>) => void = () => {}): string {
  mkdirSync(dir, { recursive: true });
  const data = testConfigData(join(dir, 'data'), join(dir, 'certs'));
  adjust(data);
  const path = join(dir, 'relay.yaml');
  writeFileSync(path, stringify(data));
  return path;
}

export interface RelayRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SpawnOptions {
  readonly env?: Record<string, string | undefined>;
  readonly stdin?: string;
}

/** Starts `relay ARGS…`; the caller must await `done` (or kill the child and then await it). */
export function spawnRelay(
  args: readonly string[],
  options: SpawnOptions = {},
): {
  child: ChildProcessWithoutNullStreams;
  done: Promise<RelayRun>;
} {
  const env: Record<string, string | undefined> = { ...process.env, RELAY_LISTEN: undefined, RELAY_DATA_DIR: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO, env: env as NodeJS.ProcessEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  child.stdin.end(options.stdin ?? '');
  const done = new Promise<RelayRun>((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs `relay ARGS…` to completion (killed after `timeoutMs`). */
export async function relay(args: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<RelayRun> {
  const { child, done } = spawnRelay(args, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}
