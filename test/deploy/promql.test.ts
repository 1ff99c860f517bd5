// The PromQL reading of test/deploy/promql.ts, and that the dashboard check reports a name no role exports.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { dashboardExpressions, exportedNames, metricNames, unknownDashboardNames } from './promql.ts'

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/dashboard.json', import.meta.url), 'utf8'))

describe('PromQL names', () => {
  it('finds the metric names of an expression, not its functions, labels, keywords or numbers', () => {
    const cases: [string, string[]][] = [
      ['sum(increase(events_produced_total[$__range]))', ['events_produced_total']],
      [
        'histogram_quantile(0.95, sum by (le, role) (rate(db_latency_seconds_bucket[5m])))',
        ['db_latency_seconds_bucket'],
      ],
      [
        'max by (instance) (role_ready{role="consumer"}) == 0 or max by (instance) (up{job="consumer"}) == 0',
        ['role_ready', 'up'],
      ],
      ['sum(consumer_lag) > 10000 and sum(delta(consumer_lag[10m])) > 0', ['consumer_lag']],
      [
        'sum(consumer_lag) > 0 unless sum(rate(messages_processed_total[10m])) > 0',
        ['consumer_lag', 'messages_processed_total'],
      ],
      [
        '1e3 * rate(http_requests_total{route=~"/users/.*"}[1m] offset 5m) / on (role) group_left up',
        ['http_requests_total', 'up'],
      ],
      ['sum without (type) (nope_total) > bool 2.5', ['nope_total']],
    ]
    for (const [expr, names] of cases) assert.deepEqual(metricNames(expr).sort(), names.sort(), expr)
  })

  it('reads the exported names of a /metrics page from its TYPE lines', () => {
    const page = [
      '# HELP a_total A',
      '# TYPE a_total counter',
      '# HELP b_seconds B',
      '# TYPE b_seconds histogram',
      'b_seconds_bucket{le="1"} 0',
    ].join('\n')
    assert.deepEqual([...exportedNames(page)].sort(), [
      'a_total',
      'b_seconds',
      'b_seconds_bucket',
      'b_seconds_count',
      'b_seconds_sum',
    ])
  })

  it('reports every dashboard query of a name not exported, and finds every query of the dashboard', () => {
    const expressions = dashboardExpressions(dashboard)
    assert.ok(expressions.length >= 15, `${expressions.length} queries`)
    const all = new Set(expressions.flatMap(e => metricNames(e.expr)))
    assert.deepEqual(unknownDashboardNames(dashboard, all), [])
    // Without one name the roles export, each panel that reads it is reported.
    const without = new Set([...all].filter(n => n !== 'consumer_lag'))
    const reported = unknownDashboardNames(dashboard, without)
    assert.ok(reported.length >= 2, reported.join('; '))
    assert.ok(
      reported.every(r => r.endsWith(': consumer_lag')),
      reported.join('; '),
    )
    // A panel added with a misspelt name is reported by its title.
    const extra = {
      panels: [...dashboard.panels, { title: 'Typo', targets: [{ expr: 'sum(rate(event_produced_total[1m]))' }] }],
    }
    assert.deepEqual(unknownDashboardNames(extra, all), ['Typo: event_produced_total'])
  })
})
