// The report's figures per busy core: derived from each drain's measured CPU per event, and left out where a
// measurement counted no CPU.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { perCore, perCoreTable, Results } from '../../bench/report.ts'

describe('bench report, per busy core', () => {
  it('turns CPU µs per event into events/s per core, for the consumer and for PostgreSQL', () => {
    const results = new Results()
    results.define({ id: 'drain.postgres', label: 'drain → PostgreSQL', unit: 'events/s' })
    results.define({ id: 'drain.sqlite', label: 'drain → SQLite', unit: 'events/s' })
    results.define({ id: 'copy.postgres', label: 'COPY', unit: 'events/s' })
    results.define({ id: 'rss.drain', label: 'RSS', unit: 'MB' })
    for (const [us, pg] of [
      [20, 25],
      [25, 20],
      [40, 10],
    ] as const) {
      results.add('drain.postgres', 30_000, { cpuUsPerEvent: us, postgresCpuUsPerEvent: pg })
    }
    results.add('drain.sqlite', 20_000, { cpuUsPerEvent: 50 })
    results.add('copy.postgres', 80_000)
    results.add('rss.drain', 200, { cpuUsPerEvent: 1 })
    const rows = perCore(results)
    assert.deepEqual(
      rows.map(r => [r.id, r.consumer, r.postgres]),
      [
        ['drain.postgres', 40_000, 50_000],
        ['drain.sqlite', 20_000, undefined],
      ],
      'the medians (25 and 20 µs), per core; nothing for COPY (no CPU measured) nor for a figure in MB',
    )
    assert.equal(
      perCoreTable(rows),
      'drain → PostgreSQL  consumer 40,000, PostgreSQL 50,000 events/s per busy core\n' +
        'drain → SQLite      consumer 20,000 events/s per busy core',
    )
    assert.equal(perCoreTable([]), '(no drain measured its CPU)')
  })
})
