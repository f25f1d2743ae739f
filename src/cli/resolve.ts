import type { RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';

/** Finds a configured collection by id or alias (in any API root). */
export function resolveCollection(config: RelayConfig, idOrAlias: string | undefined): string {
  if (!idOrAlias) throw new CliError('--collection ID is required (a collection id or alias from the config)');
  const matches = config.api_roots.flatMap((root) =>
    root.collections.filter((c) => c.id === idOrAlias || c.alias === idOrAlias).map((c) => c.id),
  );
  const unique = [...new Set(matches)];
  if (unique.length === 1) return unique[0] as string;
  if (unique.length > 1) throw new CliError(`collection "${idOrAlias}" is ambiguous; use its id`);
  const known = config.api_roots.flatMap((r) => r.collections.map((c) => `${r.path}/${c.alias ?? c.id}`));
  throw new CliError(`unknown collection "${idOrAlias}"; configured: ${known.join(', ') || '(none)'}`);
}
