/**
 * `relay backup DIR`: a copy of the node's data directory that is consistent while the node runs.
 * The LMDB store is copied by LMDB itself from one read snapshot (writers go on meanwhile); the
 * other files (token keys, the CA in pki.dir, …) are small and copied as they are. DIR mirrors
 * data_dir, so restoring is copying it back (with the node stopped) and running `relay check`.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { RelayConfig } from '../config/index.ts';
import { CliError } from './errors.ts';
import { openStore } from './store.ts';

/** The store's directory in data_dir (data.mdb, lock.mdb): copied through LMDB, never as plain files. */
const STORE_DIR = 'store';

export interface BackupManifest {
  readonly node: string;
  readonly createdAt: string;
  readonly dataDir: string;
  /** files and directories of data_dir copied beside the store */
  readonly copied: readonly string[];
  /** pki.dir when it lies outside data_dir (copied to DIR/pki-dir) */
  readonly pkiDir: string | null;
}

export async function runBackup(config: RelayConfig, target: string, options: { compact: boolean; json: boolean }): Promise<number> {
  const dir = resolve(target);
  if (existsSync(dir) && (!statSync(dir).isDirectory() || readdirSync(dir).length > 0)) {
    throw new CliError(`backup: ${dir} exists and is not an empty directory; name a new directory`);
  }
  if (isInside(dir, config.data_dir))
    throw new CliError(`backup: ${dir} is inside data_dir (${config.data_dir}); name a directory elsewhere`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const store = openStore(config);
  try {
    await store.backup(join(dir, STORE_DIR), options.compact);
  } finally {
    await store.close();
  }
  const copied: string[] = [];
  for (const name of readdirSync(config.data_dir).sort()) {
    if (name === STORE_DIR) continue;
    cpSync(join(config.data_dir, name), join(dir, name), { recursive: true, preserveTimestamps: true });
    copied.push(name);
  }
  const pkiOutside = !isInside(config.pki.dir, config.data_dir) && existsSync(config.pki.dir);
  if (pkiOutside) cpSync(config.pki.dir, join(dir, 'pki-dir'), { recursive: true, preserveTimestamps: true });

  const manifest: BackupManifest = {
    node: config.node.id,
    createdAt: new Date().toISOString(),
    dataDir: config.data_dir,
    copied,
    pkiDir: pkiOutside ? config.pki.dir : null,
  };
  writeFileSync(join(dir, 'relay-backup.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  if (options.json) {
    console.log(JSON.stringify({ dir, ...manifest }));
  } else {
    console.log(`backup of node "${config.node.id}" written to ${dir}`);
    console.log(
      `  store: a consistent LMDB copy${options.compact ? ' (compacted)' : ''}; beside it: ${copied.join(', ') || 'nothing else'}`,
    );
    if (pkiOutside) console.log(`  pki.dir ${config.pki.dir} copied to ${join(dir, 'pki-dir')}`);
    console.log(`  restore: stop the node, copy ${dir}/* except relay-backup.json into data_dir, then run relay check`);
  }
  return 0;
}

function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}
