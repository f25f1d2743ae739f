/** `relay members list` and `relay members hash-secret`. */
import { hashSecret } from '../auth/index.ts';
import type { MemberConfig, RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';

/** Credential kinds, never their values (a secret hash stays in the config file). */
function credentialKinds(m: MemberConfig): string[] {
  const c = m.credentials;
  return [
    c.basic_secret_hash ? 'basic' : undefined,
    c.jwt_subject ? `jwt:${c.jwt_subject}` : undefined,
    c.cert_subject ? `cert:${c.cert_subject}` : undefined,
    c.cert_fingerprint ? `cert-sha256:${c.cert_fingerprint}` : undefined,
  ].filter((k): k is string => k !== undefined);
}

const rightsOf = (g: MemberConfig['grants'][number]) =>
  [g.read ? 'read' : null, g.write ? 'write' : null].filter(Boolean).join('+') || 'none';

/** The member's policy in words, one line per rule (members[].policy). */
function policyLines(p: MemberConfig['policy']): Array<[string, string]> {
  const sectors =
    p.sectors.length === 0
      ? 'every sector'
      : `${p.sectors.join(', ')}${p.unscoped ? ', and objects without a sector' : ' (objects without a sector left out)'}`;
  const floors = [
    p.min_confidence !== undefined ? `confidence ≥ ${p.min_confidence}` : undefined,
    p.min_opinion !== undefined ? `opinion ≥ ${p.min_opinion}` : undefined,
  ].filter(Boolean);
  const types = [
    p.allow_types ? `only ${p.allow_types.join(', ')}` : undefined,
    p.deny_types && p.deny_types.length > 0 ? `never ${p.deny_types.join(', ')}` : undefined,
  ].filter(Boolean);
  return [
    ['TLP ceiling', p.tlp_ceiling.toUpperCase()],
    ['sectors', sectors],
    ['floors', floors.length > 0 ? floors.join(', ') : 'none'],
    ['types', types.length > 0 ? types.join('; ') : 'every type'],
    ['consent', `attribution ${p.attribution_consent}`],
  ];
}

export function runMembersList(config: RelayConfig, json: boolean): number {
  if (json) {
    const members = config.members.map((m) => ({
      id: m.id,
      name: m.name,
      credentials: credentialKinds(m),
      policy: m.policy,
      grants: m.grants,
    }));
    console.log(JSON.stringify(members, null, 2));
    return 0;
  }
  if (config.members.length === 0) console.log('(no members configured)');
  for (const m of config.members) {
    const grants = m.grants.map((g) => `${g.api_root}/${g.collection} ${rightsOf(g)}`);
    const lines: Array<[string, string]> = [
      ['credentials', credentialKinds(m).join(', ')],
      ...policyLines(m.policy),
      ['grants', grants.length > 0 ? grants.join('\n') : 'none'],
    ];
    console.log(`${m.id}  "${m.name}"`);
    for (const [label, value] of lines) {
      const [first, ...more] = value.split('\n');
      console.log(`  ${`${label}:`.padEnd(13)}${first}`);
      for (const line of more) console.log(`  ${''.padEnd(13)}${line}`);
    }
  }
  return 0;
}

export async function runHashSecret(): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const secret = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (secret.length < 12) throw new CliError('refusing a secret shorter than 12 characters');
  console.log(hashSecret(secret));
  return 0;
}
