/** Configuration (SPEC §2): read the environment, validate once, pass the frozen Config down. */
export type {
  AuthUser,
  Config,
  DeliveryMode,
  DnsServer,
  LogLevel,
  Network,
  QueueBackend,
  RelayTarget,
} from './types.js';
export { loadConfig, type ConfigFacts } from './load.js';
export { readEnvironment } from './env.js';
export { describeConfig } from './describe.js';
export { ConfigError, CONFIG_EXIT_CODE, formatProblem, type ConfigProblem } from './errors.js';
export { unknownVariables, VARIABLES, type VariableName } from './variables.js';
export { hashScrypt, verifyPassword, secretKind, type SecretKind } from './passwords.js';
