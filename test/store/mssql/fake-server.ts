// A stand-in for SQL Server at the tedious level: connections that record every request the store sends (its
// T-SQL text and the parameter declarations tedious would send with it) and answer from a responder. The
// requests are validated exactly as a real tedious connection validates them, with the collation chosen here.
import { EventEmitter } from 'node:events'
import type { TediousConnection } from 'kysely'
import { ConnectionError, type Request, RequestError } from 'tedious'
import { Collation, Flags } from 'tedious/lib/collation.js'
import type { ConnectionFactory } from '../../../src/store/mssql/driver.ts'

/** Latin1_General_100_CI_AS_SC_UTF8, the collation the store creates databases with. */
export const utf8Collation = new Collation(0x0409, Flags.IGNORE_CASE | Flags.UTF8, 2, 0)
/** SQL_Latin1_General_CP1_CI_AS, SQL Server's usual default: code page 1252. */
export const cp1252Collation = new Collation(0x0409, Flags.IGNORE_CASE, 0, 52)

/** A RequestError as tedious builds it from the server's ERROR token (token/handler.ts, onErrorMessage). */
export function serverError(number: number, message = `error ${number}`): RequestError {
  const error = new RequestError(message, 'EREQUEST')
  error.number = number
  error.state = 1
  error.class = 16
  return error
}

export const fkMessage =
  'The MERGE statement conflicted with the FOREIGN KEY constraint "FK_Orders_Users". The conflict occurred in database "events", table "dbo.users", column \'user_id\'.'

/** The server's error messages during a failed login and the error tedious then reports (the last message). */
export interface LoginRefusal {
  readonly messages: readonly { readonly number: number; readonly message: string }[]
  readonly error: Error
}

/** What SQL Server answers a login to a database that does not exist or that the login may not open. */
export function cannotOpen(database: string, user = 'sa'): LoginRefusal {
  const messages = [
    { number: 4060, message: `Cannot open database "${database}" requested by the login. The login failed.` },
    { number: 18456, message: `Login failed for user '${user}'.` },
  ]
  return { messages, error: new ConnectionError(messages[1]!.message, 'ELOGIN') }
}

/** A login refused with one message, e.g. 18456 for a login master does not accept. */
export function loginFailed(number: number, message: string): LoginRefusal {
  return { messages: [{ number, message }], error: new ConnectionError(message, 'ELOGIN') }
}

export interface Recorded {
  readonly database: string
  readonly sql: string
  /** What tedious sends as sp_executesql's @params, e.g. `@1 varchar(100), @2 decimal(18, 2)`. */
  readonly declarations: string
  /** The values as the store bound them, before tedious encoded them. */
  readonly values: readonly unknown[]
}

export interface Answer {
  readonly rows?: readonly Record<string, unknown>[]
  readonly rowCount?: number
  readonly error?: Error
}

export type Responder = (request: Recorded) => Answer | undefined

export class FakeServer {
  readonly requests: Recorded[] = []
  /** BEGIN, COMMIT and ROLLBACK as tedious's transaction calls, in order, with the database. */
  readonly transactions: string[] = []
  /** Requests and transaction calls in the order they came, as T-SQL with comments. */
  readonly transcript: string[] = []
  collation: Collation = utf8Collation
  respond: Responder = () => undefined
  refuse: Error | undefined
  /** Logins to these databases fail as SQL Server refuses them, with the error messages it sends first. */
  readonly refuseLogin = new Map<string, LoginRefusal>()
  /** Every database a connection logged in to, or tried to, in order. */
  readonly logins: string[] = []
  rollbackError: Error | undefined

  readonly factory: ConnectionFactory = database => new FakeConnection(this, database) as unknown as TediousConnection

  /** The requests other than the pool's `select 1` validation. */
  statements(): Recorded[] {
    return this.requests.filter(r => r.sql !== 'select 1')
  }
}

class FakeConnection extends EventEmitter {
  readonly #server: FakeServer
  readonly #database: string
  closed = false

  constructor(server: FakeServer, database: string) {
    super()
    this.#server = server
    this.#database = database
  }

  connect(callback: (error?: Error) => void): void {
    this.#server.logins.push(this.#database)
    const login = this.#server.refuseLogin.get(this.#database)
    const refused = login?.error ?? this.#server.refuse
    setImmediate(() => {
      // As tedious's Login7TokenHandler: each ERROR token is emitted as 'errorMessage' before the login fails.
      for (const token of login?.messages ?? []) this.emit('errorMessage', { ...token, state: 1, class: 14 })
      callback(refused)
    })
  }

  execSql(request: Request): void {
    const values = request.parameters.map(p => p.value)
    try {
      // What Connection.execSql does first; options only matter to types this store does not use.
      request.validateParameters(this.#server.collation, { useUTC: true } as never)
    } catch (error) {
      setImmediate(() => request.callback(error as Error))
      return
    }
    const recorded: Recorded = {
      database: this.#database,
      sql: request.sqlTextOrProcedure ?? '',
      declarations: request.makeParamsParameter(request.parameters),
      values,
    }
    this.#server.requests.push(recorded)
    const declared = recorded.declarations === '' ? '' : ` (${recorded.declarations})`
    this.#server.transcript.push(`-- ${this.#database}${declared}\n${recorded.sql}`)
    const answer = this.#server.respond(recorded) ?? {}
    setImmediate(() => {
      for (const row of answer.rows ?? []) {
        request.emit(
          'row',
          Object.entries(row).map(([colName, value]) => ({ metadata: { colName }, value })),
        )
      }
      request.callback(answer.error ?? null, answer.rowCount ?? answer.rows?.length ?? 0)
    })
  }

  #transaction(what: string, callback: (error?: Error | null) => void, error?: Error): void {
    this.#server.transactions.push(`${what} ${this.#database}`)
    this.#server.transcript.push(`-- ${this.#database}: ${what} TRANSACTION (a tedious transaction manager request)`)
    setImmediate(() => callback(error ?? null))
  }

  beginTransaction(callback: (error?: Error | null) => void): void {
    this.#transaction('BEGIN', callback)
  }

  commitTransaction(callback: (error?: Error | null) => void): void {
    this.#transaction('COMMIT', callback)
  }

  rollbackTransaction(callback: (error?: Error | null) => void): void {
    this.#transaction('ROLLBACK', callback, this.#server.rollbackError)
  }

  saveTransaction(callback: (error?: Error | null) => void): void {
    setImmediate(() => callback(null))
  }

  reset(callback: (error?: Error | null) => void): void {
    setImmediate(() => callback(null))
  }

  cancel(): boolean {
    return false
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    setImmediate(() => this.emit('end'))
  }
}
