// Where SQL Server is and how to log in, from DATABASE_URL=mssql://… here and from the reference system's MSSQL_CONN
// (ADO-style key=value pairs) in connection-string.ts, which shares the checks below; driver.ts turns the result
// into a tedious configuration. A bad string stops the process at start with a ConfigError naming the variable
// and the key when it is a known one (its position otherwise); no message ever repeats a value or any unknown
// text, because any part of the string may be (or, after a missing quote, contain) the password.
import { ConfigError } from '../../config/index.ts'

export type Encrypt = boolean | 'strict'

export interface MssqlConnectionOptions {
  readonly server: string
  /** undefined: 1433, or the port SQL Browser gives for `instanceName`. */
  readonly port: number | undefined
  readonly instanceName: string | undefined
  readonly database: string
  readonly user: string
  /** Not enumerable: JSON.stringify and util.inspect of the options leave it out. */
  readonly password: string
  readonly encrypt: Encrypt
  readonly trustServerCertificate: boolean
  readonly connectTimeoutMs: number
  /** Longest one request may take (DB_TIMEOUT_MS); tedious's 30 s default request timeout when absent. */
  readonly requestTimeoutMs?: number
  readonly appName: string
}

const defaults = { encrypt: true as Encrypt, trustServerCertificate: false, connectTimeoutMs: 5000 }
const defaultAppName = 'event-pipeline'

// ADO.NET and go-mssqldb spellings of each setting (compared lower-case, inner spaces collapsed).
const spellings = {
  server: ['server', 'data source', 'addr', 'address', 'network address'],
  port: ['port'],
  user: ['user id', 'uid', 'user'],
  password: ['password', 'pwd'],
  database: ['database', 'initial catalog'],
  encrypt: ['encrypt'],
  trustServerCertificate: ['trustservercertificate', 'trust server certificate'],
  connectTimeout: ['connection timeout', 'connect timeout', 'timeout', 'connecttimeout'],
  appName: ['app name', 'application name', 'appname'],
  instance: ['instance', 'instancename'],
} as const

export type Canonical = keyof typeof spellings

export const synonyms: ReadonlyMap<string, Canonical> = new Map(
  Object.entries(spellings).flatMap(([key, names]) => names.map(name => [name, key as Canonical] as const)),
)

// Valid in ADO strings but about pooling or features of other drivers: accepted, so that a string copied from a
// .NET application works, and otherwise without effect.
export const ignored: ReadonlySet<string> = new Set([
  ...['persist security info', 'multipleactiveresultsets', 'pooling', 'packet size', 'workstation id', 'wsid'],
  ...['applicationintent', 'application intent', 'multisubnetfailover'],
  ...['connect retry count', 'connect retry interval'],
])

export class Problems {
  readonly #variable: string
  readonly #list: string[] = []
  constructor(variable: string) {
    this.#variable = variable
  }
  add(problem: string): undefined {
    this.#list.push(`${this.#variable}: ${problem}`)
    return undefined
  }
  throwIfAny(): void {
    if (this.#list.length > 0) throw new ConfigError(this.#list)
  }
}

const truthy = new Set(['true', 'yes', '1'])
const falsy = new Set(['false', 'no', '0'])

function bool(value: string, key: string, problems: Problems): boolean | undefined {
  const v = value.trim().toLowerCase()
  if (truthy.has(v)) return true
  if (falsy.has(v)) return false
  return problems.add(`${key} must be true or false`)
}

// go-mssqldb's `disable` (the reference system's value) and ADO's optional/mandatory both map onto tedious's boolean.
function encryptOf(value: string, problems: Problems): Encrypt | undefined {
  const v = value.trim().toLowerCase()
  if (['disable', 'false', 'no', 'optional'].includes(v)) return false
  if (['true', 'yes', 'mandatory'].includes(v)) return true
  if (v === 'strict') return 'strict'
  return problems.add('encrypt must be one of disable, false, true or strict')
}

function portOf(value: string, key: string, problems: Problems): number | undefined {
  const n = Number(value.trim())
  if (/^\d+$/.test(value.trim()) && n >= 1 && n <= 65535) return n
  return problems.add(`${key} has a port that is not a number between 1 and 65535`)
}

interface Target {
  server?: string
  port?: number
  instanceName?: string
}

/** `host`, `tcp:host,port`, `host\instance`, `[::1],1433`; `(local)` and `.` are localhost as in ADO. */
function serverOf(value: string, problems: Problems): Target {
  let rest = value.trim()
  if (/^(np|lpc|admin):/i.test(rest)) {
    problems.add('server uses a protocol other than tcp, which this driver does not speak')
    return {}
  }
  rest = rest.replace(/^tcp:/i, '')
  const target: Target = {}
  const comma = rest.lastIndexOf(',')
  if (comma !== -1) {
    target.port = portOf(rest.slice(comma + 1), 'server', problems)
    rest = rest.slice(0, comma).trim()
  }
  const slash = rest.indexOf('\\')
  if (slash !== -1) {
    const instance = rest.slice(slash + 1).trim()
    if (instance === '') problems.add('server has an empty instance name after "\\"')
    else target.instanceName = instance
    rest = rest.slice(0, slash).trim()
  }
  rest = rest.replace(/^\[(.*)\]$/, '$1')
  if (rest === '' || /[\s;]/.test(rest)) problems.add('server has no valid host name')
  else target.server = rest === '.' || rest.toLowerCase() === '(local)' ? 'localhost' : rest
  return target
}

export interface Draft extends Target {
  user?: string
  password?: string
  database?: string
  encrypt?: Encrypt
  trustServerCertificate?: boolean
  connectTimeoutMs?: number
  appName?: string
}

export function apply(draft: Draft, key: Canonical, value: string, problems: Problems): void {
  switch (key) {
    case 'server': {
      const target = serverOf(value, problems)
      draft.server = target.server
      if (target.port !== undefined) draft.port = target.port
      if (target.instanceName !== undefined) draft.instanceName = target.instanceName
      return
    }
    case 'port':
      if (draft.port !== undefined) problems.add('the port is given twice (in server and in port)')
      else draft.port = portOf(value, 'port', problems)
      return
    case 'instance':
      draft.instanceName = value.trim() || problems.add('instance is empty')
      return
    case 'user':
      draft.user = value
      return
    case 'password':
      draft.password = value
      return
    case 'database':
      draft.database = value.trim()
      return
    case 'encrypt':
      draft.encrypt = encryptOf(value, problems)
      return
    case 'trustServerCertificate':
      draft.trustServerCertificate = bool(value, 'trustServerCertificate', problems)
      return
    case 'connectTimeout': {
      const seconds = Number(value.trim())
      if (/^\d+$/.test(value.trim()) && seconds >= 1 && seconds <= 3600) draft.connectTimeoutMs = seconds * 1000
      else problems.add('connection timeout must be a whole number of seconds between 1 and 3600')
      return
    }
    case 'appName':
      draft.appName = value.trim()
      return
  }
}

export function finish(draft: Draft, problems: Problems): MssqlConnectionOptions {
  if (draft.server === undefined) problems.add('server is missing (server=host, host,port or host\\instance)')
  if (!draft.user) problems.add('user id is missing (only SQL Server logins are supported)')
  if (draft.password === undefined) problems.add('password is missing')
  if (!draft.database) problems.add('database is missing (the pipeline creates it when it does not exist)')
  else if (draft.database.length > 128) problems.add('database is longer than 128 characters')
  problems.throwIfAny()
  const options = {
    server: draft.server!,
    // An explicit port wins over the instance name, as in ADO: no SQL Browser lookup is needed then.
    port: draft.port,
    instanceName: draft.port === undefined ? draft.instanceName : undefined,
    database: draft.database!,
    user: draft.user!,
    encrypt: draft.encrypt ?? defaults.encrypt,
    trustServerCertificate: draft.trustServerCertificate ?? defaults.trustServerCertificate,
    connectTimeoutMs: draft.connectTimeoutMs ?? defaults.connectTimeoutMs,
    appName: draft.appName || defaultAppName,
  }
  Object.defineProperty(options, 'password', { value: draft.password, enumerable: false })
  return Object.freeze(options) as MssqlConnectionOptions
}

/** Parses `mssql://user:password@host[:port]/database[?encrypt=…&trustServerCertificate=…&instance=…]`. */
export function parseMssqlUrl(raw: string, variable = 'DATABASE_URL'): MssqlConnectionOptions {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw new ConfigError([`${variable}: is not a valid mssql:// URL (percent-encode @ / : # ? in the password)`])
  }
  const problems = new Problems(variable)
  const draft: Draft = {}
  if (url.protocol !== 'mssql:') problems.add('does not start with mssql://')
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part)
    } catch {
      return problems.add(`the ${what} has a broken %-escape`)
    }
  }
  draft.user = decode(url.username, 'user')
  draft.password = url.password === '' ? undefined : decode(url.password, 'password')
  if (url.hostname !== '') draft.server = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (url.port !== '') draft.port = Number(url.port)
  const path = url.pathname.replace(/^\//, '')
  if (path.includes('/')) problems.add('the path must be just the database name')
  draft.database = decode(path, 'database')
  let position = 0
  for (const [name, value] of url.searchParams) {
    position++
    const key = name.toLowerCase()
    const canonical = synonyms.get(key)
    // A parameter is named only when it is a known spelling: any other text of the URL may be a piece of a
    // password whose "?", "&" or "#" was not percent-encoded.
    if (canonical === undefined && !ignored.has(key)) {
      problems.add(`an unknown query parameter at position ${position}`)
      continue
    }
    if (canonical === undefined) {
      problems.add(`query parameter "${key}" is not accepted in a URL`)
      continue
    }
    if (['server', 'port', 'user', 'password', 'database'].includes(canonical)) {
      problems.add(`query parameter "${key}" is not accepted (the ${canonical} goes in the URL itself)`)
      continue
    }
    apply(draft, canonical, value, problems)
  }
  return finish(draft, problems)
}

/** `mssql://user@host:port/database`, without the password: what logs and errors may show. */
export function describeConnection(options: MssqlConnectionOptions): string {
  const where = options.instanceName ? `${options.server}\\${options.instanceName}` : options.server
  const port = options.port === undefined ? '' : `:${options.port}`
  return `mssql://${options.user}@${where}${port}/${options.database}`
}
