// The alert rules shipped in deploy/: they name only metrics the roles export, cover what an operator must hear
// about, pass `promtool check rules`, and behave as their unit tests (deploy/alerts.test.yml) say under
// `promtool test rules`; those two skip when promtool is not on the PATH (dev/tools.ts).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Registry } from 'prom-client'
import { parse } from 'yaml'
import { findTool } from '../../dev/tools.ts'
import {
  consumerMetrics,
  dlqMetrics,
  httpMetrics,
  producerMetrics,
  readinessMetric,
} from '../../src/observability/index.ts'
import { headingAnchor, markdownAnchors } from './kubernetes.ts'
import { metricNames } from './promql.ts'

const path = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url))
const read = (file: string) => readFileSync(path(file), 'utf8')

/** Series Prometheus itself makes for each target, which rules may read as well. */
const prometheusSeries = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped'])

type Rule = { alert: string; expr: string; annotations?: Record<string, string> }
const rules = (parse(read('deploy/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap(g => g.rules)

const promtoolFound = findTool('promtool')

function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(promtoolFound.path ?? 'promtool', args, { encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` }
}

describe('deploy/alerts.yml', () => {
  it('uses only metrics the roles export, and prometheus.yml loads it', async () => {
    const registry = new Registry()
    consumerMetrics(registry)
    producerMetrics(registry)
    httpMetrics(registry)
    dlqMetrics(registry)
    readinessMetric(registry, async () => true)
    const exported = new Set((await registry.getMetricsAsJSON()).map(m => m.name))
    assert.ok(rules.length >= 7)
    for (const rule of rules) {
      const names = metricNames(rule.expr)
      assert.ok(names.length > 0, rule.alert)
      for (const name of names) {
        assert.ok(exported.has(name) || prometheusSeries.has(name), `${rule.alert}: ${name} is not exported by a role`)
      }
    }
    const prometheus = parse(read('deploy/prometheus.yml')) as { rule_files: string[] }
    assert.deepEqual(prometheus.rule_files, ['/etc/prometheus/alerts.yml'])
    assert.match(read('deploy/docker-compose.yml'), /"\.\/alerts\.yml:\/etc\/prometheus\/alerts\.yml:ro"/)
  })

  it('covers lag growing, the DLQ growing, a consumer not ready, old pending events and a stalled consumer', () => {
    const reads = (name: string) => rules.filter(r => metricNames(r.expr).includes(name)).map(r => r.alert)
    assert.ok(reads('consumer_lag').includes('ConsumerLagGrowing'))
    assert.ok(reads('dlq_count_total').includes('DeadLetterQueueGrowing'))
    assert.ok(reads('role_ready').includes('ConsumerNotReady'))
    assert.ok(reads('pending_oldest_age_seconds').includes('PendingEventsTooOld'))
    assert.ok(reads('messages_processed_total').includes('ConsumerStalled'))
    for (const needed of ['dlq_redis_full', 'dlq_cap_reached', 'dlq_dropped_total'])
      assert.ok(reads(needed).length > 0, needed)
  })

  it('gives every alert a summary, a description and a runbook_url whose section exists in docs/runbooks.md', () => {
    const anchors = markdownAnchors(read('docs/runbooks.md'))
    for (const rule of rules) {
      for (const key of ['summary', 'description', 'runbook_url'] as const) {
        assert.ok((rule.annotations?.[key] ?? '').trim().length > 0, `${rule.alert}: annotation ${key}`)
      }
      const url = /^docs\/runbooks\.md#(.+)$/.exec(rule.annotations?.runbook_url ?? '')
      assert.ok(url, `${rule.alert}: runbook_url points into docs/runbooks.md`)
      assert.ok(anchors.has(url[1]!), `${rule.alert}: docs/runbooks.md has no section #${url[1]}`)
      assert.equal(url[1], headingAnchor(rule.alert), `${rule.alert}: its section is named after it`)
    }
    // The anchors are read as a Markdown renderer makes them.
    assert.equal(headingAnchor('Consumer stalled: what to do'), 'consumer-stalled-what-to-do')
    assert.ok(markdownAnchors('## ConsumerStalled\n```\n# not a heading\n```\n').has('consumerstalled'))
    assert.ok(!markdownAnchors('```\n# not a heading\n```\n').has('not-a-heading'))
  })

  it('passes promtool check rules', { skip: promtoolFound.missing }, () => {
    const r = promtool(['check', 'rules', path('deploy/alerts.yml')])
    assert.equal(r.status, 0, r.output)
    assert.match(r.output, new RegExp(`SUCCESS: ${rules.length} rules found`))
  })

  it('passes its unit tests (promtool test rules deploy/alerts.test.yml), in which every alert fires', {
    skip: promtoolFound.missing,
  }, () => {
    const r = promtool(['test', 'rules', path('deploy/alerts.test.yml')])
    assert.equal(r.status, 0, r.output)
    assert.match(r.output, /SUCCESS/)
    const tests = parse(read('deploy/alerts.test.yml')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[]
    }
    const cases = tests.tests.flatMap(t => t.alert_rule_test ?? [])
    for (const rule of rules) {
      const own = cases.filter(c => c.alertname === rule.alert)
      assert.ok(
        own.some(c => c.exp_alerts.length > 0),
        `${rule.alert}: a unit test where it fires`,
      )
      assert.ok(
        own.some(c => c.exp_alerts.length === 0),
        `${rule.alert}: a unit test where it stays silent`,
      )
    }
  })
})
