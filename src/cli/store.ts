import { inDataDir, type RelayConfig } from '../config/index.ts';
import { Store } from '../store/index.ts';

/** The node's store in data_dir (created if missing); a failure names data_dir and the fix. */
export function openStore(config: RelayConfig): Store {
  return inDataDir(config, (dir) => Store.openInDataDir(dir));
}
