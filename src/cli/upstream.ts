/** `relay probe`, `relay upstreams` and `relay quarantine`: issue 3's operator commands. */
import type { RelayConfig } from '../config/index.ts';
import { openStore } from './store.ts';
import { formatTaxiiTimestamp } from '../stix/time.ts';
import { clientOptionsFor, readSubscriptionStatus } from '../upstream/index.ts';
import { formatProbe, probe } from '../upstream/probe.ts';
import { CliError } from './errors.ts';

export interface ProbeArgs {
  readonly url: string;
  readonly apiRoot?: string | undefined;
  readonly collection?: string | undefined;
  readonly user?: string | undefined;
  readonly passwordEnv?: string | undefined;
  readonly tokenEnv?: string | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly pfx?: string | undefined;
  readonly passphraseEnv?: string | undefined;
  readonly timeoutMs: number;
  /** probe an http:// URL (unencrypted); without it only https:// is accepted */
  readonly insecureHttp?: boolean | undefined;
  readonly json: boolean;
}

const defined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export async function runProbe(args: ProbeArgs): Promise<number> {
  const plain = /^http:\/\//i.test(args.url);
  if (!(/^https:\/\//i.test(args.url) || plain))
    throw new CliError('usage: relay probe https://server/taxii2/ [options] (an https:// discovery or API root URL)');
  if (plain && !args.insecureHttp)
    throw new CliError(`relay probe: ${args.url} is plain HTTP (unencrypted); use https://, or pass --insecure-http to probe it anyway`);
  if (plain) console.error('warning: probing over plain HTTP: traffic and credentials are unencrypted');
  if (args.user !== undefined && args.passwordEnv === undefined)
    throw new CliError('--user needs --password-env VAR (the password is read from that environment variable)');
  if ((args.cert === undefined) !== (args.key === undefined)) throw new CliError('--cert and --key go together');
  const timeoutMs = args.timeoutMs;
  let client;
  try {
    client = clientOptionsFor(
      'probe',
      {
        auth: defined({ user: args.user, password_env: args.passwordEnv, token_env: args.tokenEnv }),
        tls: defined({
          ca_file: args.ca,
          cert_file: args.cert,
          key_file: args.key,
          pfx_file: args.pfx,
          passphrase_env: args.passphraseEnv,
        }),
        insecureHttp: plain,
      },
      { connectMs: timeoutMs, responseMs: timeoutMs },
    );
  } catch (error) {
    throw new CliError((error as Error).message);
  }
  const checks = await probe({ url: args.url, client, ...defined({ apiRoot: args.apiRoot, collection: args.collection }) });
  if (args.json) console.log(JSON.stringify({ url: args.url, checks }, null, 2));
  else console.log(formatProbe(args.url, checks));
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}

const ago = (ms: number | null) => {
  if (ms === null) return '-';
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
};

export async function runUpstreams(config: RelayConfig, json: boolean): Promise<number> {
  const store = openStore(config);
  try {
    const status = readSubscriptionStatus(config, store);
    if (json) {
      console.log(JSON.stringify(status, null, 2));
      return 0;
    }
    if (status.length === 0) {
      console.log('no upstream subscriptions configured (see "upstreams" in the config file)');
      return 0;
    }
    const title = new Map(config.api_roots.flatMap((r) => r.collections.map((c) => [c.id, c.alias ?? c.title])));
    for (const s of status) {
      console.log(`${s.upstream}/${s.remote} -> ${title.get(s.local) ?? s.local}: ${s.state}`);
      console.log(`  last success: ${s.lastSuccessAt ?? 'never'} (lag ${ago(s.lagMs)}); last attempt: ${s.lastAttemptAt ?? 'never'}`);
      console.log(
        `  cursor: ${s.cursor ? `added after ${s.cursor.last ?? 'the beginning'}, paging by ${s.cursor.paging}${s.cursor.nextIgnored ? " (server ignores 'next')" : ''}` : 'none yet'}`,
      );
      console.log(
        `  objects ingested: ${s.objectsIngested} (new versions ${s.versionsStored}, quarantined ${s.quarantined}) in ${s.pages} pages`,
      );
      if (s.lastCycle) {
        const rate = s.lastCycle.ms > 0 ? Math.round((s.lastCycle.objects * 1000) / s.lastCycle.ms) : s.lastCycle.objects;
        const split =
          s.lastCycle.httpMs !== undefined
            ? `; busy: http ${s.lastCycle.httpMs}ms, parse ${s.lastCycle.parseMs}ms, store ${s.lastCycle.storeMs}ms`
            : '';
        console.log(
          `  last cycle: ${s.lastCycle.objects} objects in ${s.lastCycle.pages} pages, ${(s.lastCycle.ms / 1000).toFixed(1)}s (${rate} objects/s)${split}`,
        );
      }
      console.log(`  last error: ${s.lastError ? `${s.lastErrorAt} ${s.lastError}` : '-'}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function runQuarantineList(config: RelayConfig, limit: number, json: boolean): Promise<number> {
  const store = openStore(config);
  try {
    const records = store.resources.listQuarantine({ limit });
    if (json) {
      console.log(JSON.stringify(records, null, 2));
      return 0;
    }
    console.log(
      `${store.resources.quarantineCount()} quarantined record(s)${records.length < store.resources.quarantineCount() ? `, newest ${records.length} shown` : ''}`,
    );
    for (const r of records) {
      const what = r.kind === 'object' ? `object ${r.objectId ?? '(no id)'}${r.version ? ` ${r.version}` : ''}` : 'response';
      console.log(`${r.id}  ${formatTaxiiTimestamp(r.at)}  ${r.detail}  ${what}: ${r.reason}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

export async function runQuarantineShow(config: RelayConfig, id: string): Promise<number> {
  const store = openStore(config);
  try {
    const r = store.resources.getQuarantine(id);
    if (!r) throw new CliError(`no quarantine record "${id}" (see relay quarantine list)`);
    const { content, ...meta } = r;
    console.log(JSON.stringify({ ...meta, at: formatTaxiiTimestamp(r.at) }, null, 2));
    console.log('content:');
    console.log(content);
    return 0;
  } finally {
    await store.close();
  }
}
