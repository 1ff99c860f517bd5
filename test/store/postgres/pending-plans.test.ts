// The sweep's reads go through indexes on PostgreSQL: on 20,000 pending rows, EXPLAIN shows each one reading
// pending_events by the index it was written for, never a sequential scan (docs/performance.md, "The pending sweep
// at a million rows", has the times at 1,000,000).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pg from 'pg'
import { postgresDatabase } from '../../helpers/resources.ts'
import { openStore } from '../harness.ts'
import { compilerFor, planRows, sweepQueries } from '../pending-plans.ts'

describe('the pending sweep on postgres', () => {
  it('reads pending_events through its indexes, never the whole table', async t => {
    const url = await postgresDatabase(t)
    await (await openStore(t, { engine: 'postgres', url })).close()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      await client.query(
        `INSERT INTO users (user_id, name, email, created_at, event_id, event_ts, source_topic, source_partition,
         source_offset)
       SELECT CASE WHEN g <= 100 THEN 'p-' ELSE 'stored-' END || g, 'n', 'e', now(), 'u-' || g, now(), 'events', 0, g
       FROM generate_series(1, ${planRows}) g`,
      )
      await client.query(
        `INSERT INTO pending_events (source_topic, source_partition, source_offset, event_id, event_type, event_key,
         parent_table, parent_key, constraint_name, event_ts, payload, pending_since)
       SELECT 'events', g % 12, g, 'evt-' || g, 'OrderPlaced', 'o-' || g, 'users', 'p-' || g, 'FK_Orders_Users',
         now(), '{}', now() - (g % 3600) * interval '1 second'
       FROM generate_series(1, ${planRows}) g`,
      )
      await client.query('ANALYZE')
      for (const query of sweepQueries(compilerFor('postgres'), new Date())) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${query.sql}`, [...query.parameters])
        const plan = rows.map(r => r['QUERY PLAN']).join('\n')
        // The count may read the table: its LIMIT bounds it, whatever the table holds.
        if (query.index !== '')
          assert.doesNotMatch(plan, /Seq Scan on (pending_events|users)/, `${query.name}:\n${plan}`)
        if (query.index !== '')
          assert.match(plan, new RegExp(`Index.* using "?${query.index}"?`), `${query.name}:\n${plan}`)
        else assert.match(plan, /Limit/, `${query.name}:\n${plan}`)
      }
    } finally {
      await client.end()
    }
  })
})
