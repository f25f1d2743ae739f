/** `relay token issue|rotate|revoke|jwks`: bearer tokens of members (and admins) signed with the node's keys. */
import { durationSeconds, loadOrCreateTokenKeys, tokenSettings } from '../auth/index.ts';
import { inDataDir, type RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';

/** The node's signing keys in `<data_dir>/keys` (created on first use). */
const keysOf = (config: RelayConfig) => inDataDir(config, (dir) => loadOrCreateTokenKeys(dir));

/** `ttlMs` from --ttl (already checked); default auth.token_ttl. */
export async function runTokenIssue(config: RelayConfig, memberId: string, ttlMs: number | undefined): Promise<number> {
  // admins authenticate like members (their ids are distinct), so either may hold a token
  const member = config.members.find((m) => m.id === memberId);
  const admin = member ? undefined : config.admins.find((a) => a.id === memberId);
  const holder = member ?? admin;
  if (!holder) throw new CliError(`unknown member "${memberId}" (and no admin has that id); see relay members list`);
  const subject = holder.credentials.jwt_subject;
  if (!subject) throw new CliError(`${member ? 'member' : 'admin'} "${memberId}" has no credentials.jwt_subject; add one to accept tokens`);
  if (ttlMs !== undefined && ttlMs > durationSeconds(config.auth.max_token_ttl) * 1000) {
    throw new CliError(`--ttl is longer than auth.max_token_ttl (${config.auth.max_token_ttl}): ask for less, or raise auth.max_token_ttl`);
  }
  const lifetime = ttlMs === undefined ? config.auth.token_ttl : `${Math.ceil(ttlMs / 1000)}s`;
  const keys = await keysOf(config);
  console.log((await keys.issue(tokenSettings(config), subject, lifetime)).token);
  return 0;
}

export async function runTokenRotate(config: RelayConfig): Promise<number> {
  const keys = await keysOf(config);
  const kid = await keys.rotate(tokenSettings(config));
  console.log(`new signing key ${kid}; tokens signed with earlier keys stay valid until they expire`);
  return 0;
}

export async function runTokenRevoke(config: RelayConfig, tokenOrJti: string): Promise<number> {
  const keys = await keysOf(config);
  const revoked = keys.revoke(tokenOrJti);
  console.log(`revoked token ${revoked.jti}${revoked.sub ? ` of ${revoked.sub}` : ''}`);
  return 0;
}

export async function runTokenJwks(config: RelayConfig): Promise<number> {
  const keys = await keysOf(config);
  console.log(JSON.stringify(keys.jwks(), null, 2));
  return 0;
}
