/** `relay token issue|rotate|revoke|jwks`: member bearer tokens signed with the node's keys. */
import { loadOrCreateTokenKeys, tokenSettings } from '../auth/index.ts';
import type { RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';

const USAGE =
  'usage: relay token issue MEMBER [--ttl 12h] | token rotate | token revoke TOKEN-OR-JTI | token jwks  (each with --config PATH)';

export async function runToken(config: RelayConfig, args: readonly string[], ttl: string | undefined): Promise<number> {
  const [action, argument] = args;
  const settings = tokenSettings(config);
  switch (action) {
    case 'issue': {
      if (!argument) throw new CliError(USAGE);
      const member = config.members.find((m) => m.id === argument);
      if (!member) throw new CliError(`unknown member "${argument}"; see relay members list`);
      const subject = member.credentials.jwt_subject;
      if (!subject) throw new CliError(`member "${argument}" has no credentials.jwt_subject; add one to accept tokens`);
      const lifetime = ttl ?? config.auth.token_ttl;
      if (!/^\d+[smhd]$/.test(lifetime)) throw new CliError('--ttl expects a duration such as "30m", "12h" or "7d"');
      const keys = await loadOrCreateTokenKeys(config.data_dir);
      console.log((await keys.issue(settings, subject, lifetime)).token);
      return 0;
    }
    case 'rotate': {
      const keys = await loadOrCreateTokenKeys(config.data_dir);
      const kid = await keys.rotate(settings);
      console.log(`new signing key ${kid}; tokens signed with earlier keys stay valid until they expire`);
      return 0;
    }
    case 'revoke': {
      if (!argument) throw new CliError(USAGE);
      const keys = await loadOrCreateTokenKeys(config.data_dir);
      const revoked = keys.revoke(argument);
      console.log(`revoked token ${revoked.jti}${revoked.sub ? ` of ${revoked.sub}` : ''}`);
      return 0;
    }
    case 'jwks': {
      const keys = await loadOrCreateTokenKeys(config.data_dir);
      console.log(JSON.stringify(keys.jwks(), null, 2));
      return 0;
    }
    default:
      throw new CliError(USAGE);
  }
}
