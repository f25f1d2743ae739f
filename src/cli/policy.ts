/**
 * `relay policy explain --member M --object ID [--collection C]`: rule by rule, why member M
 * does or does not receive object ID (its latest version) from each collection it may read
 * that holds it, and what would be redacted. Read-only; the explanation itself is
 * taxii/server/explain.ts, which the admin console's /admin/explain answers with too.
 */
import type { RelayConfig } from '../config/index.ts';
import { explainObject, UnknownCollectionError, UnknownMemberError } from '../taxii/server/explain.ts';
import { openStore } from './store.ts';
import { CliError } from './errors.ts';

export interface ExplainOptions {
  readonly member: string;
  /** a STIX id */
  readonly object: string;
  readonly collection: string | undefined;
  readonly json: boolean;
}

export async function runPolicyExplain(config: RelayConfig, options: ExplainOptions): Promise<number> {
  if (!config.members.some((m) => m.id === options.member))
    throw new CliError(
      new UnknownMemberError(
        options.member,
        config.members.map((m) => m.id),
      ).message,
    );
  const store = openStore(config);
  try {
    let result;
    try {
      result = explainObject(config, store, options);
    } catch (error) {
      if (error instanceof UnknownMemberError || error instanceof UnknownCollectionError) throw new CliError(error.message);
      throw error;
    }
    if (options.json) {
      console.log(JSON.stringify(result, null, 2));
      return 0;
    }
    console.log(`member ${result.member}, object ${result.object}`);
    if (result.collections.length === 0) console.log('  no configured collection holds this object');
    for (const e of result.collections) {
      console.log(`\n${e.collection}${e.version ? ` (latest version ${e.version})` : ''}`);
      if (e.attributes) console.log(`  attributes: ${describeAttributes(e.attributes)}`);
      for (const r of e.rules) console.log(`  [${r.pass ? 'pass' : 'FAIL'}] ${r.rule}: ${r.because}`);
      const verdict = !e.allowed
        ? 'DENIED (the member gets 404 for it)'
        : e.redacted && e.redacted.length > 0
          ? `ALLOWED, REDACTED (removed: ${e.redacted.join(', ')})`
          : 'ALLOWED';
      console.log(`  => ${verdict}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

function describeAttributes(a: Record<string, unknown>): string {
  const sectors = (a.sectors as string[]).length > 0 ? (a.sectors as string[]).join(', ') : 'none (unscoped)';
  return `type ${a.type}, TLP ${String(a.tlp).toUpperCase()}, sectors ${sectors}, confidence ${a.confidence ?? '-'}, opinion ${a.opinion ?? '-'}, revoked ${a.revoked ? 'yes' : 'no'}, granular markings ${a.granular ? 'yes' : 'no'}`;
}
