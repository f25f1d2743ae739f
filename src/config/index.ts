export { loadConfig, ConfigError, inDataDir } from './load.ts';
export type { RelayConfig, ApiRootConfig, AdminConfig, CollectionConfig, MemberConfig } from './schema.ts';
