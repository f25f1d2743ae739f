/**
 * `relay pii scan` without main.ts: runs runPiiScan on its arguments in a real process, so a
 * test can read the exact stdout and exit status. Usage: node --import tsx pii-scan-cli.ts FILE… [--json]
 */
import { runPiiScan } from '../../src/cli/pii.ts';

const args = process.argv.slice(2);
try {
  process.exitCode = await runPiiScan(
    args.filter((a) => a !== '--json'),
    { json: args.includes('--json') },
  );
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 2;
}
