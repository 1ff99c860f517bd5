import assert from 'node:assert/strict'
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { createSqliteStore } from '../../../src/store/sqlite/store.ts'
import { sqliteFile } from '../../helpers/resources.ts'
import { runConformance } from '../conformance.ts'
import { inventoryAdjusted, orderPlaced, sourced, userCreated } from '../events.ts'
import { assertPipelineError, openStore } from '../harness.ts'

runConformance('sqlite', async t => ({ engine: 'sqlite', path: sqliteFile(t) }))

describe('sqlite store specifics', () => {
  it('works in memory', async t => {
    const store = await openStore(t, { engine: 'sqlite', path: ':memory:' })
    await store.applyBatch(sourced(userCreated({ userId: 'u1', name: 'Mem' })))
    assert.equal((await store.getUser('u1'))?.name, 'Mem')
  })

  it('creates the directory of its file', async t => {
    const path = join(sqliteFile(t), '..', 'nested', 'deeper', 'pipeline.sqlite')
    await openStore(t, { engine: 'sqlite', path })
    assert.ok(existsSync(path))
  })

  it('creates its file, -wal and -shm readable by the owner only, whatever the umask', async t => {
    // umask 0 would leave SQLite's own default, 0644 (world-readable), on every file it creates.
    const previous = process.umask(0)
    t.after(() => process.umask(previous))
    const path = sqliteFile(t)
    const store = await openStore(t, { engine: 'sqlite', path })
    await store.migrate()
    await store.applyBatch(sourced(userCreated({ userId: 'u1', email: 'private@example.com' })))
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      assert.equal((statSync(file).mode & 0o777).toString(8), '600', file)
    }
  })

  it('leaves the mode of an existing file as its owner set it', async t => {
    const path = sqliteFile(t)
    writeFileSync(path, '')
    chmodSync(path, 0o640)
    const store = await openStore(t, { engine: 'sqlite', path })
    await store.migrate()
    assert.equal((statSync(path).mode & 0o777).toString(8), '640')
  })

  it('uses WAL, records each migration step once and keeps money as exact decimal text', async t => {
    const path = sqliteFile(t)
    const store = await openStore(t, { engine: 'sqlite', path })
    await store.migrate()
    const raw = new DatabaseSync(path)
    t.after(() => raw.close())
    assert.equal(raw.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal')
    assert.deepEqual(
      raw
        .prepare('SELECT version FROM schema_migrations')
        .all()
        .map(r => r['version']),
      [1, 2, 3, 4, 5],
    )
    const batch = sourced(
      userCreated({ userId: 'u1' }, { eventId: 'log-1' }),
      orderPlaced({ orderId: 'o1', userId: 'u1', total: 0.1 }, { eventId: 'log-2' }),
    )
    await store.applyBatch(
      batch,
      batch.map(e => e.source),
    )
    assert.equal(raw.prepare('SELECT total FROM orders').get()?.['total'], '0.10')
    // The event log and the applied offset, written by the batch's transaction, as the rows say.
    assert.deepEqual(
      raw
        .prepare('SELECT event_id, entity_table, entity_key FROM event_log ORDER BY event_id')
        .all()
        .map(r => ({ ...r })),
      [
        { event_id: 'log-1', entity_table: 'users', entity_key: 'u1' },
        { event_id: 'log-2', entity_table: 'orders', entity_key: 'o1' },
      ],
    )
    assert.deepEqual(
      { ...raw.prepare('SELECT source_topic, source_partition, source_offset FROM applied_offsets').get() },
      { source_topic: 'events', source_partition: 0, source_offset: Number(batch[1]!.source.offset) },
    )
  })

  it('reports a write lock held too long by another process as retryable DB_UNAVAILABLE', async t => {
    const path = sqliteFile(t)
    const store = createSqliteStore({ path, busyTimeoutMs: 50 })
    t.after(() => store.close())
    await store.migrate()
    const other = new DatabaseSync(path)
    t.after(() => other.close())
    other.exec('BEGIN IMMEDIATE')
    await assertPipelineError(store.applyBatch(sourced(inventoryAdjusted({ sku: 'a', delta: 1 }))), {
      code: 'DB_UNAVAILABLE',
      retryable: true,
    })
    other.exec('ROLLBACK')
    await store.applyBatch(sourced(inventoryAdjusted({ sku: 'a', delta: 1 })))
    assert.equal((await store.getInventory('a'))?.quantity, 1)
  })
})
