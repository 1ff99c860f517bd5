import { InvalidValue, type Role, type Spec, spec, type VarSpec } from './spec.ts'

type Parsed<K extends keyof Spec> = ReturnType<Spec[K]['parse']>
type Values = {
  readonly [K in keyof Spec]: Spec[K]['default'] extends string ? Parsed<K> : Parsed<K> | undefined
}

export type Database =
  | { readonly engine: 'sqlite'; readonly path: string }
  | { readonly engine: 'postgres'; readonly url: string }
  | { readonly engine: 'mssql'; readonly url?: string; readonly connectionString?: string }

export interface Config extends Values {
  readonly database: Database
  /** Port of `role` when it runs in this process: SERVICE_PORT wins for a role started alone. */
  readonly portOf: (role: Role, alone: boolean) => number
}

export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map(p => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

function databaseOf(values: Values): Database {
  const url = values.databaseUrl
  if (url !== undefined) {
    if (url.startsWith('sqlite:')) return { engine: 'sqlite', path: url.slice('sqlite:'.length).replace(/^\/\//, '') }
    if (url.startsWith('mssql://')) return { engine: 'mssql', url }
    return { engine: 'postgres', url }
  }
  if (values.mssqlConn !== undefined) return { engine: 'mssql', connectionString: values.mssqlConn }
  return { engine: 'sqlite', path: values.sqlitePath }
}

/** Settings that only make sense together. */
function crossChecks(values: Values): string[] {
  const problems: string[] = []
  if (values.kafkaSaslMechanism !== undefined && values.kafkaSaslUsername === undefined) {
    problems.push('KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set; expected a non-empty string')
  }
  if ((values.kafkaTlsCertFile === undefined) !== (values.kafkaTlsKeyFile === undefined)) {
    problems.push('KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE: set both or neither; expected a certificate and its key')
  }
  return problems
}

/** Which roles this process runs, and whether one runs alone: only their variables are read and checked. */
export interface ConfigScope {
  readonly roles: readonly Role[]
  readonly alone: boolean
}

/** Whether a variable is read by a process running `scope` (every variable when there is no scope). */
function readBy(v: VarSpec<unknown>, scope: ConfigScope | undefined): boolean {
  if (scope === undefined) return true
  if (v.aloneOnly === true && !scope.alone) return false
  return v.roles === undefined || v.roles.some(role => scope.roles.includes(role))
}

/**
 * Reads the environment once into a frozen, typed Config. Every invalid variable is reported, each with
 * its name and what it expects, in one ConfigError. Empty strings count as unset, as in the reference system.
 * With a scope, a variable none of its roles reads keeps its default and is not checked: `SERVICE_PORT=abc`
 * does not stop `pipeline all`, which ignores it.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env, scope?: ConfigScope): Config {
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(spec)) {
    const raw = readBy(v as VarSpec<unknown>, scope) ? env[v.name] : undefined
    const source = raw === undefined || raw === '' ? v.default : raw
    if (source === undefined) {
      values[key] = undefined
      continue
    }
    try {
      values[key] = v.parse(source)
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error
      // Never echo a secret back, even in an error: only a message that quotes nothing of the value is shown.
      const why = 'secret' in v && v.secret && !error.quotesNothing ? 'its value is not valid' : error.message
      problems.push(`${v.name}: ${why}; expected ${v.expects}`)
    }
  }
  if (problems.length === 0) problems.push(...crossChecks(values as unknown as Values))
  if (problems.length > 0) throw new ConfigError(problems)
  const typed = values as unknown as Values
  const ports: Record<Role, number> = { producer: typed.producerPort, consumer: typed.consumerPort, api: typed.apiPort }
  return Object.freeze({
    ...typed,
    database: Object.freeze(databaseOf(typed)),
    portOf: (role: Role, alone: boolean) =>
      alone && typed.servicePort !== undefined ? typed.servicePort : ports[role],
  })
}

/** The configuration as `pipeline config` shows it: secrets redacted. */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(spec)) {
    const value = (config as unknown as Record<string, unknown>)[key]
    out[v.name] = 'secret' in v && v.secret && value !== undefined && value !== '' ? '[redacted]' : value
  }
  return out
}
