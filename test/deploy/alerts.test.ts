// The alert rules shipped in deploy/ name only metrics the roles export, and Prometheus loads them.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { Registry } from 'prom-client'
import { parse } from 'yaml'
import { consumerMetrics, dlqMetrics, httpMetrics, producerMetrics } from '../../src/observability/index.ts'

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

it('every alert rule uses metrics the roles export, and prometheus.yml loads the rules', async () => {
  const registry = new Registry()
  consumerMetrics(registry)
  producerMetrics(registry)
  httpMetrics(registry)
  dlqMetrics(registry)
  const exported = new Set((await registry.getMetricsAsJSON()).map(m => m.name))
  const rules = (parse(read('deploy/alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] })
    .groups[0]!.rules
  assert.ok(rules.length >= 5)
  const functions = new Set(['max', 'sum', 'rate', 'increase', 'delta', 'and', 'by', 'm'])
  for (const rule of rules) {
    const names = [...rule.expr.matchAll(/[a-z_][a-z0-9_]*/g)].map(m => m[0]).filter(n => !functions.has(n))
    assert.ok(names.length > 0, rule.alert)
    for (const name of names) assert.ok(exported.has(name), `${rule.alert}: ${name} is not exported by a role`)
  }
  for (const needed of ['dlq_redis_full', 'dlq_dropped_total', 'pending_oldest_age_seconds', 'consumer_lag']) {
    assert.ok(
      rules.some(r => r.expr.includes(needed)),
      needed,
    )
  }
  const prometheus = parse(read('deploy/prometheus.yml')) as { rule_files: string[] }
  assert.deepEqual(prometheus.rule_files, ['/etc/prometheus/alerts.yml'])
  assert.match(read('deploy/docker-compose.yml'), /"\.\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro"/)
})
