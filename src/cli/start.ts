/** `relay start`: runs the node until SIGINT/SIGTERM. */
import type { RelayConfig } from '../config/index.ts';
import { createLogger, startNode } from '../node.ts';

export async function runStart(config: RelayConfig): Promise<number> {
  const log = createLogger(config);
  const node = await startNode(config, log);
  const lines = [`relay node "${config.node.id}" is serving TAXII 2.1`, `  discovery: ${node.discoveryUrl}`];
  // The environment overrides these two keys of the file: say so, never silently.
  for (const [variable, key] of [
    ['RELAY_LISTEN', 'listen'],
    ['RELAY_DATA_DIR', 'data_dir'],
  ] as const) {
    const value = process.env[variable];
    if (value) lines.push(`  ${key}: ${value} from the environment (${variable}), in place of the config file's value`);
  }
  if (node.devCaPath) lines.push(`  TLS: development certificate; trust ${node.devCaPath} (e.g. curl --cacert ${node.devCaPath})`);
  const polling = node.upstreams.subscriptions.filter((s) => s.spec.enabled).length;
  if (config.upstreams.length > 0) {
    lines.push(`  upstreams: ${polling} subscription(s) polling; state: relay upstreams --config <this config>`);
  }
  const example = config.members[0];
  if (example) {
    lines.push(
      `  member "${example.id}": HTTP Basic with the secret documented in the config file,`,
      `    or a bearer token from: relay token issue ${example.id} --config <this config>`,
    );
  }
  // Listening for the signals before saying the node serves: a supervisor (or a test) that stops
  // the node as soon as it reads that line must find the handlers in place, not the default exit.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write(`${lines.join('\n')}\n`);
  await stopped;
  await node.close();
  log.info('stopped: store closed, connections ended');
  return 0;
}
