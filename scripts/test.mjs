#!/usr/bin/env node
// The project's test command: every test, real parts, one summary line at the end.
// - Makes sure the external binaries tests need are present (installs nats-server, and chromium
//   for the admin console's browser test, with apt when running as root, or stops naming the
//   Debian package) — never skips a test silently.
// - Runs vitest with its JSON reporter and prints "N passed, M failed" as the last line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const REPORT = '.vitest-report.json';
const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function testsMention(word) {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && readFileSync(join(dir, e.name), 'utf8').includes(word),
    );
  return existsSync('test') && walk('test');
}

/** Installs a Debian package when `present` fails and we are root; otherwise stops, naming it. */
function ensurePackage(name, present, why) {
  if (spawnSync('sh', ['-c', present], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() === 0) {
    console.error(`${name} is missing; installing the Debian package "${name}"…`);
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', name], { stdio: 'inherit' });
    if (update.status === 0 && install.status === 0) return;
  }
  console.error(`${why}: install the Debian package "${name}" (apt-get install ${name}).`);
  process.exit(2);
}

if (!existsSync('node_modules/vitest')) {
  console.error('Dependencies are missing: run "npm ci" first.');
  process.exit(2);
}
if (testsMention('nats-server')) {
  ensurePackage('nats-server', 'command -v nats-server || test -x /usr/sbin/nats-server', 'The tests need nats-server');
}
// the admin console's browser test drives Debian's chromium through playwright-core
if (testsMention('/usr/bin/chromium')) ensurePackage('chromium', 'test -x /usr/bin/chromium', 'The browser tests need /usr/bin/chromium');

rmSync(REPORT, { force: true });
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${REPORT}`, ...process.argv.slice(2)];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = 0;
let failed = 0;
if (existsSync(REPORT)) {
  const report = JSON.parse(readFileSync(REPORT, 'utf8'));
  passed = report.numPassedTests ?? 0;
  // A file that failed without a failed test (it did not load, or a hook threw) counts as a
  // failure too, so a broken file is never silent; a failed test is counted once.
  const brokenFiles = (report.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  failed = (report.numFailedTests ?? 0) + brokenFiles;
  const pendingOrTodo = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  if (pendingOrTodo > 0) {
    console.error(`${pendingOrTodo} skipped or todo tests: skipped tests count as failures here.`);
    failed += pendingOrTodo;
  }
} else {
  failed = 1;
  console.error('vitest wrote no JSON report');
}
// .ci/run's format, lint and typecheck gates: each failed one counts as a failure
failed += Number(process.env.RELAY_GATE_FAILURES ?? 0) || 0;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || run.status !== 0 ? 1 : 0);
