// The sweep's reads go through indexes on SQLite: on 20,000 pending rows, EXPLAIN QUERY PLAN shows each one
// searching pending_events by the index it was written for, never scanning the table or sorting it
// (docs/performance.md, "The pending sweep at a million rows", has the times at 1,000,000).
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { pendingCountCap } from '../../../src/store/index.ts'
import { sqliteFile } from '../../helpers/resources.ts'
import { openStore } from '../harness.ts'
import { compilerFor, planRows, sweepQueries } from '../pending-plans.ts'

type Bindable = string | number | bigint | null

describe('the pending sweep on sqlite', () => {
  it('reads pending_events through its indexes, never the whole table', async t => {
    const path = sqliteFile(t)
    await (await openStore(t, { engine: 'sqlite', path })).close()
    const db = new DatabaseSync(path)
    t.after(() => db.close())
    db.exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${planRows})
      INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition,
        source_offset)
      SELECT CASE WHEN n <= 100 THEN 'p-' ELSE 'stored-' END || n, 'n', 'e', '2026-01-01T00:00:00.000Z', 'u-' || n, '2026-01-01T00:00:00.000Z', 'events', 0, n
      FROM g`)
    db.exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${planRows})
      INSERT INTO pending_events (source_topic, source_partition, source_offset, event_id, event_type, event_key,
        parent_table, parent_key, constraint_name, event_ts, payload, pending_since)
      SELECT 'events', n % 12, n, 'evt-' || n, 'OrderPlaced', 'o-' || n, 'users', 'p-' || n, 'FK_Orders_Users',
        '2026-01-01T00:00:00.000Z', '{}', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (n % 3600) || ' seconds')
      FROM g`)
    db.exec('ANALYZE')
    for (const query of sweepQueries(compilerFor('sqlite'), new Date())) {
      const steps = db
        .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .all(...(query.parameters as Bindable[]))
        .map(row => String(row['detail']))
      const plan = steps.join('\n')
      // Only the count may read a table from its start: its LIMIT bounds it, whatever the table holds.
      if (query.index !== '') {
        const scans = steps.filter(s => /^SCAN /.test(s))
        assert.deepEqual(scans, [], `${query.name}: a scan\n${plan}`)
      }
      if (query.index !== '') {
        assert.match(plan, new RegExp(`USING (COVERING )?INDEX ${query.index}\\b`), `${query.name}:\n${plan}`)
        assert.doesNotMatch(plan, /USE TEMP B-TREE FOR ORDER BY/, `${query.name}: a sort\n${plan}`)
      }
    }
  })

  it('counts up to the cap, says when there are more, and finds the oldest row waiting or claimed', async t => {
    const path = sqliteFile(t)
    const store = await openStore(t, { engine: 'sqlite', path })
    const db = new DatabaseSync(path)
    t.after(() => db.close())
    const fill = (rows: number) =>
      db.exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ${rows})
        INSERT INTO pending_events (source_topic, source_partition, source_offset, event_id, event_type, event_key,
          parent_table, parent_key, constraint_name, event_ts, payload, pending_since)
        SELECT 'events', 0, n, 'evt-' || n, 'OrderPlaced', 'o-' || n, 'users', 'p-' || n, 'FK_Orders_Users',
          '2026-01-01T00:00:00.000Z', '{}', '2026-01-02T00:00:00.000Z'
        FROM g`)
    fill(pendingCountCap)
    assert.deepEqual(await store.pendingStats(), {
      count: pendingCountCap,
      capped: false,
      oldestSince: '2026-01-02T00:00:00.000Z',
    })
    // One more row, claimed and older than every waiting one.
    db.exec(`INSERT INTO pending_events (source_topic, source_partition, source_offset, event_id, event_type,
        event_key, parent_table, parent_key, constraint_name, event_ts, payload, pending_since)
      VALUES ('events', 1, 0, 'evt-x', 'OrderPlaced', 'o-x', '(dead-letter)', 'p-x', 'FK_Orders_Users',
        '2026-01-01T00:00:00.000Z', '{}', '2026-01-01T12:00:00.000Z')`)
    assert.deepEqual(await store.pendingStats(), {
      count: pendingCountCap,
      capped: true,
      oldestSince: '2026-01-01T12:00:00.000Z',
    })
  })
})
