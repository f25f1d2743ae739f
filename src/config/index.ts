export {
  loadConfig,
  parseConfig,
  ConfigError,
  configuredPathError,
  inDataDir,
  usingConfiguredPath,
  type ConfigEnvironment,
} from './load.ts';
export type { RelayConfig, ApiRootConfig, CollectionConfig, MemberConfig, GrantConfig } from './schema.ts';
export type { MemberPolicyConfig, PolicyConfig, ViewFilterConfig } from './policy.ts';
