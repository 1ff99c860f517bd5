// The rules that keep deploy/docker-compose.yml safe by default, as pure functions from the file's text to a list
// of problems, so the tests can show each rule catching a broken copy of the file as well as passing the real one.
// - Every published port is bound to loopback: whoever reaches a port is hostile, and the host's other interfaces
//   are reachable by anyone on its networks.
// - No secret has a default in the file: a default is a password everyone who read the repository knows.
// - No pipeline role logs in to SQL Server as sa: a role that can do everything turns any flaw into a takeover.
import { parseDocument } from 'yaml'
import { parseConnectionString } from '../../src/store/mssql/connection-string.ts'

/** What the deploy files hold, as the yaml package reads them under YAML 1.2's core schema. */
export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml }

/**
 * Parses a deploy file, refusing duplicate keys and anything the parser only warns about (an unknown tag, say):
 * the rules below must read the file as compose does, or not at all.
 */
export function parseYaml(text: string): Yaml {
  const document = parseDocument(text, { uniqueKeys: true })
  const [problem] = [...document.errors, ...document.warnings]
  if (problem !== undefined) throw problem
  // The core schema yields only the JSON-like values of Yaml.
  return document.toJS() as Yaml
}

type Node = { [key: string]: Yaml }

const isMap = (value: Yaml | undefined): value is Node =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)

/** Names that hold a secret, by the spelling of the variable. */
export const secretName = /PASSWORD|PASSWD|PWD|SECRET|TOKEN|_AUTH$|_KEY$/

/** Variables whose value is a connection string with a password inside. */
export const connectionVariables: ReadonlySet<string> = new Set(['MSSQL_CONN', 'DATABASE_URL'])

export interface Interpolation {
  readonly name: string
  /** `:?` and `?` require the variable; `:-` and `-` give a default; '' is a bare ${NAME} or $NAME. */
  readonly operator: '' | ':?' | '?' | ':-' | '-'
  readonly argument: string
}

const pattern = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:\?|\?|:-|-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g

/** Every interpolation of the text, as compose reads them (`$$` is a literal `$`). */
export function interpolations(text: string): Interpolation[] {
  const out: Interpolation[] = []
  for (const m of text.matchAll(pattern)) {
    if (m[0] === '$$') continue
    const name = m[1] ?? m[4] ?? ''
    out.push({ name, operator: (m[2] ?? '') as Interpolation['operator'], argument: m[3] ?? '' })
  }
  return out
}

/** Compose's interpolation with `env` as the environment; a required variable that is missing throws. */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(pattern, (whole, braced?: string, operator?: string, argument?: string, bare?: string) => {
    if (whole === '$$') return '$'
    const name = (braced ?? bare)!
    const value = env[name]
    switch (operator) {
      case ':?':
      case '?':
        if (value === undefined || (operator === ':?' && value === '')) throw new Error(`${name}: ${argument}`)
        return value
      case ':-':
        return value || (argument ?? '')
      case '-':
        return value ?? argument ?? ''
      default:
        return value ?? ''
    }
  })
}

/** A value a test gives each required variable: it holds ; = and { so that unquoted use breaks a connection string. */
export const sampleValue = (name: string) => `Pw;1={${name.toLowerCase()}`

/** The variables the file requires (`${NAME:?…}`), each with its sample value. */
export function sampleEnvironment(text: string): Record<string, string> {
  return Object.fromEntries(
    interpolations(text)
      .filter(i => i.operator === ':?' || i.operator === '?')
      .map(i => [i.name, sampleValue(i.name)]),
  )
}

const isRequired = (raw: string) => /^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]+\}$/.test(raw)

export function servicesOf(compose: Yaml): [string, Node][] {
  const services = isMap(compose) ? compose['services'] : undefined
  return isMap(services) ? Object.entries(services).filter((e): e is [string, Node] => isMap(e[1])) : []
}

function environmentOf(service: Node): [string, string][] {
  const env = service['environment']
  return isMap(env) ? Object.entries(env).map(([k, v]) => [k, String(v)]) : []
}

/** Ports published on an address other than loopback, or the host's network shared outright. */
export function exposureProblems(compose: Yaml): string[] {
  const problems: string[] = []
  for (const [name, service] of servicesOf(compose)) {
    if (service['network_mode'] === 'host') problems.push(`${name}: network_mode host exposes every port`)
    const ports = service['ports'] ?? []
    for (const entry of Array.isArray(ports) ? ports : [ports]) {
      // Short syntax only: "127.0.0.1:HOST:CONTAINER" (or [::1]). Without an address, Docker binds 0.0.0.0.
      if (typeof entry !== 'string' || !/^(127\.0\.0\.1|\[::1\]):\d+:\d+(\/tcp|\/udp)?$/.test(entry)) {
        problems.push(`${name}: port ${JSON.stringify(entry)} is not published on 127.0.0.1 only`)
      }
    }
  }
  return problems
}

/** Secrets with a default, a literal value, or a value that may be empty. */
export function secretProblems(text: string, compose: Yaml): string[] {
  const problems: string[] = []
  for (const i of interpolations(text)) {
    if (secretName.test(i.name) && i.operator !== ':?') {
      problems.push(`\${${i.name}} must be required (\${${i.name}:?…}), never defaulted or left empty`)
    }
  }
  const env = sampleEnvironment(text)
  const samples = new Set(Object.values(env))
  for (const [name, service] of servicesOf(compose)) {
    for (const [key, raw] of environmentOf(service)) {
      if (connectionVariables.has(key)) {
        const password = passwordOf(interpolate(raw, env))
        if (password === undefined || !samples.has(password)) {
          problems.push(`${name}: the password in ${key} does not come whole from a required variable`)
        }
      } else if (secretName.test(key) && !isRequired(raw)) {
        problems.push(`${name}: ${key} is not exactly a required variable`)
      }
    }
    const command = service['command']
    if (Array.isArray(command)) {
      command.forEach((arg, i) => {
        const next = command[i + 1]
        if (arg === '--requirepass' && !(typeof next === 'string' && isRequired(next))) {
          problems.push(`${name}: --requirepass is not given a required variable`)
        }
      })
    }
  }
  return problems
}

function passwordOf(connection: string): string | undefined {
  try {
    return connection.startsWith('mssql://')
      ? decodeURIComponent(new URL(connection).password)
      : parseConnectionString(connection).password
  } catch {
    return undefined
  }
}

function userOf(connection: string): string | undefined {
  try {
    return connection.startsWith('mssql://')
      ? decodeURIComponent(new URL(connection).username)
      : parseConnectionString(connection).user
  } catch {
    return undefined
  }
}

/** Services built from the pipeline's image that log in to SQL Server as sa (or with no user we can read). */
export function saProblems(text: string, compose: Yaml): string[] {
  const env = sampleEnvironment(text)
  const problems: string[] = []
  for (const [name, service] of servicesOf(compose)) {
    if (!isMap(service['build'])) continue
    for (const [key, raw] of environmentOf(service)) {
      if (!connectionVariables.has(key)) continue
      const value = interpolate(raw, env)
      if (key === 'DATABASE_URL' && !value.startsWith('mssql://')) continue
      const user = userOf(value)
      if (user === undefined || user.toLowerCase() === 'sa') problems.push(`${name}: ${key} logs in as sa`)
    }
  }
  return problems
}

/** Parses the compose text and runs every rule: the list is empty for a safe file. */
export function safetyProblems(text: string): string[] {
  const compose = parseYaml(text)
  return [...exposureProblems(compose), ...secretProblems(text, compose), ...saProblems(text, compose)]
}
