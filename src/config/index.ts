export { configHelp, configTable } from './docs.ts'
export { type Config, ConfigError, type ConfigScope, type Database, describeConfig, loadConfig } from './load.ts'
export { type LogLevel, type Role, spec, type VarSpec } from './spec.ts'
