// SQLite generations (a file per generation, swapped by copying rows in one transaction on the live file) against
// real files: the shared suite, then what only the copy shows: a reader in another thread never fails nor sees
// an empty table while the rows are replaced, and a database in memory is refused.
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { setImmediate, setTimeout } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type { Database } from '../../../src/config/index.ts'
import { createGenerations } from '../../../src/store/index.ts'
import { sqliteFile } from '../../helpers/resources.ts'
import { at, sourced, userCreated } from '../events.ts'
import { assertRefused, openGenerations, runGenerationSuite } from '../generations-suite.ts'
import { openStore } from '../harness.ts'

export function sqliteSql(path: string) {
  return async (target: string, text: string) => {
    const db = new DatabaseSync(target === 'live' ? path : `${path}.${target}`)
    try {
      db.exec('PRAGMA busy_timeout = 5000')
      db.exec(text)
    } finally {
      db.close()
    }
  }
}

const pathOf = (database: Database) => (database.engine === 'sqlite' ? database.path : '')

runGenerationSuite('sqlite', {
  fresh: async t => ({ engine: 'sqlite', path: sqliteFile(t) }),
  sql: (_t, database) => sqliteSql(pathOf(database)),
})

// A reader of the live file in its own thread, as another process would read it: each read is one transaction
// that counts the users and reads one, until `stop` is set.
const readerSource = `
const { workerData, parentPort } = require('node:worker_threads')
const { DatabaseSync } = require('node:sqlite')
const db = new DatabaseSync(workerData.path)
db.exec('PRAGMA busy_timeout = 5000')
const count = db.prepare('SELECT count(*) AS n FROM users')
const one = db.prepare('SELECT name FROM users WHERE user_id = ?')
const stop = new Int32Array(workerData.stop)
const stats = { old: 0, new: 0, empty: 0, failures: [] }
let i = 0
parentPort.postMessage('ready')
while (Atomics.load(stop, 0) === 0) {
  try {
    db.exec('BEGIN')
    const n = count.get().n
    const row = one.get('r' + (i++ % workerData.keys))
    db.exec('COMMIT')
    if (n !== workerData.keys || row === undefined) stats.empty++
    else stats[row.name === 'new' ? 'new' : 'old']++
  } catch (error) {
    stats.failures.push(String(error))
    try { db.exec('ROLLBACK') } catch {}
  }
}
db.close()
parentPort.postMessage(stats)
`

describe('sqlite generations: a swap under load', () => {
  it('a reader of the live file never fails nor sees an empty table, and sees the new rows after', async t => {
    const database: Database = { engine: 'sqlite', path: sqliteFile(t) }
    const live = await openStore(t, database)
    const generations = await openGenerations(t, database)
    const keys = 20_000
    const version = (name: string, ts: string) =>
      sourced(...Array.from({ length: keys }, (_, i) => userCreated({ userId: `r${i}`, name }, { timestamp: ts })))
    await live.applyBatch(version('old', at(1)))
    await generations.create('next')
    const shadow = await generations.open('next')
    await shadow.applyBatch(version('new', at(2)))
    await shadow.close()

    const stop = new SharedArrayBuffer(4)
    const worker = new Worker(readerSource, { eval: true, workerData: { path: pathOf(database), keys, stop } })
    const messages: unknown[] = []
    const done = new Promise<{ old: number; new: number; empty: number; failures: string[] }>((resolve, reject) => {
      worker.on('message', message => {
        messages.push(message)
        if (message !== 'ready') resolve(message)
      })
      worker.on('error', reject)
    })
    while (messages.length === 0) await setTimeout(10)
    // This process keeps reading through the live Store while it swaps: the copy runs in a worker thread.
    let reading = true
    let ownReads = 0
    const ownFailures: unknown[] = []
    const ownLoop = (async () => {
      while (reading) {
        try {
          if ((await live.getUser(`r${ownReads % keys}`)) === undefined) ownFailures.push('missing')
        } catch (error) {
          ownFailures.push(error)
        }
        ownReads++
        await setImmediate()
      }
    })()
    await setTimeout(200)
    const started = performance.now()
    const readsBefore = ownReads
    await generations.swap('next')
    const took = performance.now() - started
    const readsDuring = ownReads - readsBefore
    await setTimeout(200)
    reading = false
    await ownLoop
    Atomics.store(new Int32Array(stop), 0, 1)
    const stats = await done
    await worker.terminate()
    t.diagnostic(
      `swap of ${keys} users took ${took.toFixed(0)} ms; another thread read old ${stats.old}, new ${stats.new}, empty ${stats.empty}; this one read ${readsDuring} times during the swap`,
    )
    assert.deepEqual(ownFailures, [])
    assert.ok(readsDuring > 10, `this process kept reading during the swap (${readsDuring} reads)`)
    assert.deepEqual(stats.failures, [])
    assert.equal(stats.empty, 0, 'no read found the table empty or partly filled')
    assert.ok(stats.old > 0 && stats.new > 0, 'reads saw the old rows before and the new ones after')
    assert.equal((await live.getUser('r1'))?.name, 'new')
  })

  it('refuses a database in memory', async () => {
    for (const path of [':memory:', '']) {
      await assertRefused(createGenerations({ engine: 'sqlite', path }), 'unsupported', /in memory/)
    }
  })
})
