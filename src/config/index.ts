export { loadConfig, ConfigError, inDataDir, federationKeyFile } from './load.ts';
export type { RelayConfig, ApiRootConfig, AdminConfig, CollectionConfig, MemberConfig } from './schema.ts';
