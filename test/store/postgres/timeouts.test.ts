// Every PostgreSQL call is bounded on the client side: a server that keeps the connection open and never
// answers (a TCP proxy that swallows every byte) costs one timeout and a retryable DB_UNAVAILABLE, the broken
// connection is discarded, and closing the store does not wait for statements that hang.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { PipelineError } from '../../../src/errors.ts'
import { createPostgresStore } from '../../../src/store/postgres/store.ts'
import { eventually } from '../../helpers/kafka.ts'
import { tcpProxy } from '../../helpers/proxy.ts'
import { type Cleanup, postgresDatabase } from '../../helpers/resources.ts'
import { inventoryAdjusted, sourced, uniqueKey, userCreated } from '../events.ts'

const unavailable = (e: unknown) => e instanceof PipelineError && e.code === 'DB_UNAVAILABLE' && e.retryable

/** A fresh database, a proxy in front of it, and a store (pool of one) that reaches it through the proxy. */
async function proxied(t: Cleanup, timeoutMs: number) {
  const url = new URL(await postgresDatabase(t))
  const proxy = await tcpProxy(t, url.hostname, Number(url.port || 5432))
  const viaProxy = new URL(url)
  viaProxy.port = String(proxy.port)
  // One connection, so that a broken connection handed out again would be the one every later call gets.
  const store = createPostgresStore({ url: viaProxy.toString(), poolSize: 1, timeoutMs })
  t.after(() => store.close())
  const admin = new pg.Client({ connectionString: url.toString() })
  // Cleanup drops the database WITH (FORCE) before this client ends, which ends its session from the server.
  admin.on('error', () => {})
  await admin.connect()
  t.after(() => admin.end())
  return { store, proxy, admin }
}

async function elapsed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await work()
  return performance.now() - started
}

describe('PostgreSQL store timeouts', () => {
  it('fails a call to a silent server as DB_UNAVAILABLE within the timeout, then recovers', async t => {
    const { store, proxy, admin } = await proxied(t, 600)
    await store.migrate()
    await store.applyBatch(sourced(userCreated({ userId: uniqueKey('before') })))

    proxy.blackhole()
    const pingMs = await elapsed(() => assert.rejects(store.ping(), unavailable))
    assert.ok(pingMs >= 500 && pingMs < 2000, `ping failed after ${Math.round(pingMs)} ms`)
    // In a transaction the rollback after the timeout must not wait out a second timeout on the same socket.
    const lost = uniqueKey('lost')
    const batchMs = await elapsed(() =>
      assert.rejects(store.applyBatch(sourced(userCreated({ userId: lost }))), unavailable),
    )
    assert.ok(batchMs >= 500 && batchMs < 2000, `batch failed after ${Math.round(batchMs)} ms`)

    await proxy.restore()
    // The pool holds one connection: if the one that timed out were handed out again, this would time out too.
    await store.ping()
    const after = uniqueKey('after')
    await store.applyBatch(sourced(userCreated({ userId: after })))
    assert.equal((await store.getUser(after))?.userId, after)
    assert.equal(await store.getUser(lost), undefined)
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM users')
    assert.equal(rows[0]?.n, '2')
  })

  it('fails a connection attempt to a silent server as DB_UNAVAILABLE within the timeout', async t => {
    const { store, proxy } = await proxied(t, 600)
    proxy.blackhole()
    const ms = await elapsed(() => assert.rejects(store.ping(), unavailable))
    assert.ok(ms >= 500 && ms < 2000, `connect failed after ${Math.round(ms)} ms`)
    await proxy.restore()
    await store.ping()
  })

  it('closes at once while a statement hangs; the statement fails retryably and its transaction rolls back', async t => {
    // A timeout far longer than the test may wait: close() must not depend on it.
    const { store, admin } = await proxied(t, 60_000)
    await store.migrate()
    const userId = uniqueKey('held')
    const sku = uniqueKey('sku')
    // Another transaction inserts the same user and keeps it uncommitted, so the store's upsert waits on it.
    await admin.query('BEGIN')
    await admin.query(
      `INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition, source_offset)
       VALUES ($1, 'x', 'x@example.com', now(), 'e-held', now(), 'events', 0, 0)`,
      [userId],
    )
    const batch = store.applyBatch(sourced(inventoryAdjusted({ sku, delta: 5 }), userCreated({ userId })))
    const outcome = batch.then(
      () => 'applied',
      (e: unknown) => e,
    )
    await eventually('the store waits on the lock', async () => {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'event-pipeline' AND wait_event_type = 'Lock'`,
      )
      return rows[0]?.n === '1'
    })

    const closeMs = await elapsed(() => store.close())
    assert.ok(closeMs < 1000, `close took ${Math.round(closeMs)} ms`)
    const error = await outcome
    assert.ok(unavailable(error), `the batch ended with ${String(error)}`)
    await assert.rejects(store.ping(), unavailable)

    // Once the lock is gone the server finds the client gone and rolls the store's transaction back.
    await admin.query('ROLLBACK')
    await eventually('the store session is gone', async () => {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'event-pipeline'`,
      )
      return rows[0]?.n === '0'
    })
    const { rows } = await admin.query<{ users: string; inventory: string }>(
      'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM inventory) AS inventory',
    )
    assert.deepEqual(rows[0], { users: '0', inventory: '0' })
  })
})
