export { loadConfig, ConfigError, inDataDir, federationKeyFile } from './load.ts';
export type { RelayConfig, ApiRootConfig, CollectionConfig, MemberConfig } from './schema.ts';
