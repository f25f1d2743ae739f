/** `relay members list` and `relay members hash-secret`. */
import { hashSecret } from '../auth/index.ts';
import type { RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';

export function runMembersList(config: RelayConfig): number {
  if (config.members.length === 0) console.log('(no members configured)');
  for (const m of config.members) {
    const kinds = [m.credentials.basic_secret_hash ? 'basic' : null, m.credentials.jwt_subject ? `jwt:${m.credentials.jwt_subject}` : null]
      .filter(Boolean)
      .join(', ');
    console.log(`${m.id}  "${m.name}"  credentials: ${kinds}`);
    for (const g of m.grants) {
      const rights = [g.read ? 'read' : null, g.write ? 'write' : null].filter(Boolean).join('+') || 'none';
      console.log(`  ${g.api_root}/${g.collection}: ${rights}`);
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
