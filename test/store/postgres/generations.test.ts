// PostgreSQL generations (a schema per generation) against a real server: the shared suite, then what only a
// swap of schemas shows: readers through the live Store's prepared statements never fail nor see an empty table
// while the tables move, and see the new rows after; a batch in flight is not lost.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout } from 'node:timers/promises'
import pg from 'pg'
import type { Database } from '../../../src/config/index.ts'
import { postgresDatabase } from '../../helpers/resources.ts'
import { at, inventoryAdjusted, orderPlaced, sourced, userCreated } from '../events.ts'
import { assertRefused, openGenerations, runGenerationSuite } from '../generations-suite.ts'
import { openStore } from '../harness.ts'

export function postgresSql(url: string) {
  return async (target: string, text: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(`SET search_path TO ${target === 'live' ? 'public' : pg.escapeIdentifier(target)}`)
      await client.query(text)
    } finally {
      await client.end()
    }
  }
}

const urlOf = (database: Database) => (database.engine === 'postgres' ? database.url : '')

runGenerationSuite('postgres', {
  fresh: async t => ({ engine: 'postgres', url: await postgresDatabase(t) }),
  sql: (_t, database) => postgresSql(urlOf(database)),
})

describe('postgres generations: a swap under load', () => {
  it('readers through the live Store never fail nor see an empty table, and see the new rows after', async t => {
    const database: Database = { engine: 'postgres', url: await postgresDatabase(t) }
    const live = await openStore(t, database)
    // The read API's own Store: a pool whose connections run the lookups as named prepared statements.
    const reader = await openStore(t, database)
    const generations = await openGenerations(t, database)
    const keys = 50
    const version = (name: string, ts: string) =>
      sourced(
        ...Array.from({ length: keys }, (_, i) => userCreated({ userId: `r${i}`, name }, { timestamp: ts })),
        ...Array.from({ length: keys }, (_, i) =>
          orderPlaced({ orderId: `o${i}`, userId: `r${i}`, status: name }, { timestamp: ts }),
        ),
        inventoryAdjusted({ sku: 'sku-r', delta: name === 'old' ? 1 : 2 }, { timestamp: ts }),
      )
    await live.applyBatch(version('old', at(1)))
    await generations.create('next')
    const shadow = await generations.open('next')
    await shadow.applyBatch(version('new', at(2)))
    await shadow.close()

    let stop = false
    let swapped = false
    const reads = { old: 0, new: 0, missing: 0, oldAfterSwap: 0 }
    const failures: unknown[] = []
    let i = 0
    const readLoop = async () => {
      while (!stop) {
        const n = i++ % keys
        const afterSwap = swapped
        try {
          const [user, order, stock] = await Promise.all([
            reader.getUser(`r${n}`),
            reader.getOrderWithPayment(`o${n}`),
            reader.getInventory('sku-r'),
          ])
          if (user === undefined || order === undefined || stock === undefined) reads.missing++
          else if (user.name === 'new' && order.order.status === 'new' && stock.quantity === 2) reads.new++
          else {
            reads.old++
            if (afterSwap) reads.oldAfterSwap++
          }
        } catch (error) {
          failures.push(error)
        }
      }
    }
    // The live consumer keeps writing other keys (users and deltas) through the swap.
    const writeFailures: unknown[] = []
    let written = 0
    const writeLoop = async () => {
      while (!stop) {
        try {
          await live.applyBatch(
            sourced(userCreated({ userId: `w${written}` }), inventoryAdjusted({ sku: `w-${written}`, delta: 1 })),
          )
          written++
        } catch (error) {
          writeFailures.push(error)
        }
      }
    }
    const loops = [...Array.from({ length: 8 }, readLoop), writeLoop()]
    await setTimeout(300)
    const before = reads.old
    const started = performance.now()
    await generations.swap('next')
    const took = performance.now() - started
    swapped = true
    await setTimeout(300)
    stop = true
    await Promise.all(loops)
    t.diagnostic(
      `swap took ${took.toFixed(0)} ms; reads old ${reads.old}, new ${reads.new}, missing ${reads.missing}; ${written} batches written, ${writeFailures.length} failed`,
    )
    assert.deepEqual(failures, [])
    assert.equal(reads.missing, 0, 'no read found a table empty or missing')
    assert.ok(before > 0 && reads.new > 0, 'reads saw the old rows before and the new ones after')
    assert.equal(reads.oldAfterSwap, 0, 'no read that started after the swap saw the old rows')
    assert.deepEqual(writeFailures, [])
    assert.ok(written > 0)
    // Batches that committed after the swap went to the tables live now, with their deltas.
    const last = await reader.getUser(`w${written - 1}`)
    assert.equal(last?.userId, `w${written - 1}`)
  })
})

describe('postgres generations: only its own schemas', () => {
  it('never drops or opens a schema it did not make, and keeps each generation in its schema', async t => {
    const database: Database = { engine: 'postgres', url: await postgresDatabase(t) }
    await openStore(t, database)
    const generations = await openGenerations(t, database)
    const sql = postgresSql(urlOf(database))
    await sql('live', 'CREATE SCHEMA someone_else; CREATE TABLE someone_else.keep (x int)')
    await assertRefused(generations.drop('someone_else'), 'not-found')
    await assertRefused(generations.open('someone_else'), 'not-found')
    await assertRefused(generations.create('someone_else'), 'exists')
    await sql('live', 'SELECT * FROM someone_else.keep')
    await generations.create('mine')
    const tables = new pg.Client({ connectionString: urlOf(database) })
    await tables.connect()
    try {
      const { rows } = await tables.query(
        "SELECT table_schema, count(*)::int AS n FROM information_schema.tables WHERE table_schema IN ('public', 'mine') GROUP BY 1 ORDER BY 1",
      )
      assert.deepEqual(rows, [
        { table_schema: 'mine', n: 9 },
        { table_schema: 'public', n: 9 },
      ])
    } finally {
      await tables.end()
    }
  })
})
