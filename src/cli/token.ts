/** `relay token issue MEMBER`: mints a bearer token signed with the node's key. */
import { issueToken, loadOrCreateTokenKeys } from '../auth/index.ts';
import type { RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';

export async function runTokenIssue(config: RelayConfig, memberId: string, ttl: string | undefined): Promise<number> {
  const member = config.members.find((m) => m.id === memberId);
  if (!member) throw new CliError(`unknown member "${memberId}"; see relay members list`);
  const subject = member.credentials.jwt_subject;
  if (!subject) throw new CliError(`member "${memberId}" has no credentials.jwt_subject; add one to accept tokens`);
  const lifetime = ttl ?? config.auth.token_ttl;
  if (!/^\d+[smhd]$/.test(lifetime)) throw new CliError('--ttl expects a duration such as "30m", "12h" or "7d"');
  const keys = await loadOrCreateTokenKeys(config.data_dir);
  const token = await issueToken(keys, { issuer: config.auth.jwt_issuer, audience: config.auth.jwt_audience }, subject, lifetime);
  console.log(token);
  return 0;
}
