export { loadConfig, ConfigError, inDataDir } from './load.ts';
export type { RelayConfig, ApiRootConfig, CollectionConfig, MemberConfig } from './schema.ts';
