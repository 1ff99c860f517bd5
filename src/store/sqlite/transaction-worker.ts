// One write transaction on a SQLite file, run in a worker thread. node:sqlite is synchronous: a swap that copies a
// whole projection would otherwise hold this process's event loop for as long as it copies, and with it every read
// the process serves (the read API of `pipeline all` reads the live file through its own connection, which WAL
// lets go on during the copy). The worker's source is text, so the production bundle needs no file of its own.
import { Worker } from 'node:worker_threads'
import { GenerationError } from '../generations.ts'

/** A check inside the transaction, before any statement: a query whose one row says `ok` (1) or refuses. */
export interface Guard {
  readonly sql: string
  readonly params: readonly (string | number | null)[]
  readonly reason: GenerationError['reason']
  readonly message: string
}

export interface TransactionProgram {
  readonly path: string
  /** A database file attached as `gen` for the transaction (ATTACH cannot run inside one). */
  readonly attach?: string
  readonly busyTimeoutMs: number
  readonly guards: readonly Guard[]
  readonly statements: readonly string[]
}

type Answer =
  | { readonly done: true }
  | { readonly refused: Guard }
  | { readonly error: { message: string; code?: string; errcode?: number; errstr?: string } }

// BEGIN IMMEDIATE takes the write lock up front (busy_timeout applies); the guards run under it, so what they
// checked still holds when the statements run. Foreign keys are checked at the commit, since the statements empty
// and refill tables.
const source = `
const { workerData: p, parentPort } = require('node:worker_threads')
const { DatabaseSync } = require('node:sqlite')
function run(db) {
  db.exec('PRAGMA busy_timeout = ' + p.busyTimeoutMs + '; PRAGMA foreign_keys = ON;')
  if (p.attach !== undefined) db.prepare('ATTACH DATABASE ? AS gen').run(p.attach)
  db.exec('BEGIN IMMEDIATE')
  try {
    db.exec('PRAGMA defer_foreign_keys = ON')
    for (const guard of p.guards) {
      const row = db.prepare(guard.sql).get(...guard.params)
      if (row === undefined || !row.ok) {
        db.exec('ROLLBACK')
        return { refused: guard }
      }
    }
    for (const statement of p.statements) db.exec(statement)
    db.exec('COMMIT')
    return { done: true }
  } catch (error) {
    if (db.isTransaction) db.exec('ROLLBACK')
    throw error
  }
}
let db
let answer
try {
  db = new DatabaseSync(p.path)
  answer = run(db)
} catch (error) {
  answer = { error: { message: error.message, code: error.code, errcode: error.errcode, errstr: error.errstr } }
} finally {
  try { db?.close() } catch {}
}
parentPort.postMessage(answer)
`

/**
 * Runs `program` in a worker; resolves once it committed. A guard that refuses rejects with its GenerationError; a
 * SQLite failure rejects with an error shaped as node:sqlite's (code, errcode), for the engine's error mapping.
 */
export function runTransaction(program: TransactionProgram): Promise<void> {
  return new Promise((resolve, reject) => {
    let answered = false
    const worker = new Worker(source, { eval: true, workerData: program })
    worker.once('message', (answer: Answer) => {
      answered = true
      if ('done' in answer) resolve()
      else if ('refused' in answer) reject(new GenerationError(answer.refused.reason, answer.refused.message))
      else reject(Object.assign(new Error(answer.error.message), answer.error))
    })
    worker.once('error', error => {
      answered = true
      reject(error)
    })
    worker.once('exit', code => {
      if (!answered) reject(new Error(`the SQLite transaction worker exited (${code}) without an answer`))
    })
  })
}
