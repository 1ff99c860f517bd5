// deploy/'s Prometheus setup against the real thing: the three roles of `pipeline all` (what `npm start` runs),
// after some traffic, serve /metrics that `promtool check metrics` accepts and that export every name the Grafana
// dashboard queries; a real Prometheus, configured by deploy/prometheus.yml with its targets rewritten to the
// roles' loopback ports, scrapes them, loads deploy/alerts.yml, and answers queries with what was produced.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse, stringify } from 'yaml'
import { findTool, skipUnless } from '../../dev/tools.ts'
import { inventoryAdjusted, orderPlaced, userCreated } from '../helpers/events.ts'
import { eventually } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { startPrometheus } from '../helpers/prometheus.ts'
import { kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { exportedNames, unknownDashboardNames } from './promql.ts'

const path = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url))
const read = (file: string) => readFileSync(path(file), 'utf8')

type ScrapeConfig = { job_name: string; static_configs: { targets: string[] }[] }
type PrometheusConfig = { global: Record<string, string>; rule_files: string[]; scrape_configs: ScrapeConfig[] }

/** deploy/prometheus.yml with each target (a compose service named after its role) pointing at `urls`. */
function loopbackConfig(urls: Record<string, string>): { config: string; jobs: string[] } {
  const config = parse(read('deploy/prometheus.yml')) as PrometheusConfig
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' }
  config.rule_files = [path('deploy/alerts.yml')]
  for (const job of config.scrape_configs) {
    for (const group of job.static_configs) {
      group.targets = group.targets.map(target => {
        const url = urls[target.split(':')[0] as string]
        assert.ok(url !== undefined, `${job.job_name}: target ${target} is not one of the roles`)
        return new URL(url).host
      })
    }
  }
  return { config: stringify(config), jobs: config.scrape_configs.map(j => j.job_name).sort() }
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(`${url}/produce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  })
}

const promtool = findTool('promtool')

it('the roles of npm start pass promtool, feed the dashboard, and a real Prometheus scrapes them', {
  skip: skipUnless(promtool, findTool('prometheus')),
}, async t => {
  const topic = await kafkaTopic(t, 3)
  const { prefix } = redisPrefix(t)
  const pipeline = await startPipeline(t, 'all', {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('group').replaceAll('_', '-'),
    DLQ_KEY: `${prefix}dlq`,
    DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    LOG_LEVEL: 'WARN',
  })
  const { producer, api } = pipeline.urls

  // Traffic: events of three types (one batch with a refused entry), a body that is not JSON, reads.
  const run = uniqueName('p')
  const user = userCreated(`${run}-user`)
  const answers = [
    await post(producer, user),
    await post(producer, orderPlaced(`${run}-order`, user.data.userId)),
    await post(producer, [inventoryAdjusted(`${run}-sku`, 3), { eventId: `${run}-bad`, type: 'Nope' }]),
    await post(producer, '{not json'),
  ]
  assert.deepEqual(
    answers.map(a => a.status),
    [200, 200, 200, 400],
  )
  const acknowledged = 3
  await eventually('the order applied, as the read API shows', async () => {
    const r = await fetch(`${api}/users/${user.data.userId}`, { signal: AbortSignal.timeout(5000) })
    return r.ok && ((await r.json()) as { recentOrders: unknown[] }).recentOrders.length === 1
  })
  assert.equal((await fetch(`${api}/orders/${run}-none`)).status, 404)

  const exported = new Set<string>()
  for (const [role, url] of Object.entries(pipeline.urls)) {
    const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text()
    const check = spawnSync(promtool.path ?? 'promtool', ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
      timeout: 30_000,
    })
    assert.equal(check.status, 0, `${role}: promtool check metrics: ${check.stdout}${check.stderr}`)
    for (const name of exportedNames(text)) exported.add(name)
  }
  const dashboard = JSON.parse(read('deploy/grafana/dashboard.json'))
  assert.deepEqual(unknownDashboardNames(dashboard, exported), [], 'every metric the dashboard queries is exported')

  const { config, jobs } = loopbackConfig(pipeline.urls)
  const prometheus = await startPrometheus(t, config)
  type Targets = { activeTargets: { labels: { job: string }; health: string; lastError: string }[] }
  await eventually(
    'Prometheus to scrape every role',
    async () => {
      const { activeTargets } = await prometheus.api<Targets>('/api/v1/targets')
      return activeTargets.filter(x => x.health === 'up').length === jobs.length
    },
    30_000,
    async () => JSON.stringify((await prometheus.api<Targets>('/api/v1/targets')).activeTargets),
  )
  const { activeTargets } = await prometheus.api<Targets>('/api/v1/targets')
  assert.deepEqual(activeTargets.map(x => x.labels.job).sort(), jobs)

  const value = async (promql: string) => (await prometheus.query(promql)).map(s => Number(s.value[1]))
  await eventually(
    'events_produced_total in Prometheus to count the events Kafka acknowledged',
    async () => (await value('sum(events_produced_total{job="producer"})'))[0] === acknowledged,
  )
  const byType = await prometheus.query('events_produced_total{job="producer"}')
  assert.deepEqual(byType.map(s => s.metric['type']).sort(), ['InventoryAdjusted', 'OrderPlaced', 'UserCreated'])
  await eventually(
    'consumer_lag of the topic in Prometheus, drained to 0',
    async () => {
      const lag = await prometheus.query(`consumer_lag{job="consumer",topic="${topic}"}`)
      return lag.length > 0 && lag.every(s => s.value[1] === '0')
    },
    30_000,
  )
  await eventually('role_ready of the consumer at 1', async () => (await value('role_ready{job="consumer"}'))[0] === 1)

  type Rules = { groups: { rules: { name: string; health: string; lastError?: string }[] }[] }
  const shipped = (parse(read('deploy/alerts.yml')) as { groups: { rules: unknown[] }[] }).groups[0]?.rules.length
  await eventually(
    'deploy/alerts.yml loaded and evaluated without error',
    async () => {
      const loaded = (await prometheus.api<Rules>('/api/v1/rules')).groups.flatMap(g => g.rules)
      return loaded.length === shipped && loaded.every(r => r.health === 'ok')
    },
    20_000,
    async () => JSON.stringify(await prometheus.api<Rules>('/api/v1/rules')),
  )
})
