// Every measurement a comparison or a target names is declared by a scenario, once, and the report lists them
// in the order the benchmark has always printed them, so figures from before and after a change line up.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseOptions } from '../../bench/context.ts'
import { goals } from '../../bench/goals.ts'
import { Results, targets } from '../../bench/report.ts'
import * as copy from '../../bench/scenarios/copy.ts'
import * as drain from '../../bench/scenarios/drain.ts'
import * as http from '../../bench/scenarios/http.ts'
import * as java from '../../bench/scenarios/java.ts'
import * as latency from '../../bench/scenarios/latency.ts'
import * as naive from '../../bench/scenarios/naive.ts'
import * as read from '../../bench/scenarios/read.ts'
import * as rebuild from '../../bench/scenarios/rebuild.ts'
import * as rss from '../../bench/scenarios/rss.ts'
import * as scale from '../../bench/scenarios/scale.ts'

const options = parseOptions([], { BENCH_RSS_FLAGS: '--max-old-space-size=200' }, '/p/')
const definitions = [drain, naive, copy, rebuild, latency, http, java, read, rss, scale].flatMap(s =>
  s.measurements(options),
)

describe('bench scenarios', () => {
  it('declare each measurement once, in report order', () => {
    assert.deepEqual(
      definitions.map(d => d.id),
      [
        'drain.postgres',
        'drain.postgres.info',
        'drain.sqlite',
        'naive.postgres',
        'copy.postgres',
        'rebuild.postgres',
        'latency.postgres',
        'latency.sqlite',
        'http.produce.single',
        'http.noop.single',
        'http.produce.batch',
        'http.noop.batch',
        'java.producer',
        'read.orders',
        'read.constant',
        'rss.drain',
        'rss.drain.other',
        'rss.main',
        'scale.drain.1',
        'scale.drain.n',
      ],
    )
  })

  it('compare only with declared measurements', () => {
    const ids = new Set(definitions.map(d => d.id))
    for (const d of definitions) for (const c of d.compareTo ?? []) assert.ok(ids.has(c.id), `${d.id} → ${c.id}`)
  })

  it('feed every target', () => {
    const results = new Results()
    for (const d of definitions) results.define(d)
    for (const d of definitions) results.add(d.id, 2, { p99Ms: 1 })
    for (const t of targets(results)) assert.notEqual(t.actual, undefined, t.name)
  })

  it('feed every goal of issue 16', () => {
    const results = new Results()
    for (const d of definitions) results.define(d)
    for (const d of definitions) results.add(d.id, 2, { p99Ms: 1, cpuUsPerEvent: 1 })
    for (const g of goals(results, { rssEvents: options.settings.rssEvents, history: true }))
      assert.notEqual(g.status, 'not measured', g.name)
  })

  it('show the rebuild against the COPY ceiling of the same run', () => {
    const rebuilt = definitions.find(d => d.id === 'rebuild.postgres')
    assert.deepEqual(rebuilt?.compareTo, [{ id: 'copy.postgres', kind: 'ceiling' }])
    assert.equal(rebuilt?.unit, 'events/s')
  })

  it('name the other heap flags in the memory check', () => {
    const other = definitions.find(d => d.id === 'rss.drain.other')
    assert.match(other?.note ?? '', /with --max-old-space-size=200 instead of/)
  })
})
