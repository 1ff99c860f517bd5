// The charts' series from Prometheus: the span and the queries, Prometheus' points put in the span's columns, the lag
// in seconds taken from this member's samples; a real Prometheus scraping a real consumer answered through
// GET /admin/series; and this member's samples, with a note, when Prometheus holds nothing of the consumer, refuses
// the connection or does not answer in time (then it is left alone for a while).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { Registry } from 'prom-client'
import { findTool } from '../../dev/tools.ts'
import { registerSeriesRoutes } from '../../src/admin/index.ts'
import {
  alignTo,
  columnOf,
  PrometheusSeries,
  queriesOf,
  seriesFromRanges,
  spanOf,
} from '../../src/admin/series-prometheus.ts'
import { loadConfig } from '../../src/config/index.ts'
import { SeriesRing, type SeriesSnapshot } from '../../src/consumer/series.ts'
import { buildBaseApp } from '../../src/http/index.ts'
import { createLogger } from '../../src/observability/index.ts'
import { createConsumerRole, stopRoles } from '../../src/roles/index.ts'
import { userCreated } from '../helpers/events.ts'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { freePort } from '../helpers/pipeline.ts'
import { startPrometheus } from '../helpers/prometheus.ts'
import { kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const token = 'series-prometheus-test-token-0123456789'

const memory = (overrides: Partial<SeriesSnapshot> = {}): SeriesSnapshot => ({
  ...new SeriesRing({ intervalMs: 10_000 }).snapshot(),
  ...overrides,
})

describe('the span and the queries', () => {
  it('are `capacity` points a step apart, the last on a whole step', () => {
    const span = spanOf(1_700_000_007_500, 10_000, 4)
    assert.deepEqual(span, {
      start: 1_699_999_970,
      end: 1_700_000_000,
      stepSeconds: 10,
      at: [1_699_999_970_000, 1_699_999_980_000, 1_699_999_990_000, 1_700_000_000_000],
    })
    assert.equal(spanOf(5000, 400, 3).stepSeconds, 1, 'a step is a second at least')
  })

  it('name the consumer metrics, the rates over a minute at least, the lag of the topic by partition', () => {
    assert.deepEqual(queriesOf('events', 10), {
      applied: 'sum(rate(messages_processed_total{role="consumer"}[60s]))',
      deadLetters: 'sum(rate(dlq_count_total{role="consumer"}[60s]))',
      pending: 'max(pending_events{role="consumer"})',
      lagRecords: 'max by (partition) (consumer_lag{role="consumer",topic="events"})',
    })
    assert.match(queriesOf('events', 60).applied, /\[240s\]/)
  })
})

describe("Prometheus' points in the charts' columns", () => {
  const span = spanOf(100_000, 10_000, 4)

  it('put each point at its step and leave nulls where Prometheus has none', () => {
    assert.deepEqual(span.at, [70_000, 80_000, 90_000, 100_000])
    assert.deepEqual(
      columnOf(span, [
        [70, 1],
        [90, 3],
        [500, 9],
      ]),
      [1, null, 3, null],
    )
    assert.deepEqual(columnOf(span, undefined), [null, null, null, null])
  })

  it("align this member's samples with the nearest time within the tolerance", () => {
    assert.deepEqual(alignTo([10, 20, 30, 40], [9, 12, 31, 70], [1, 2, 3, 7], 5), [1, null, 3, null])
    assert.deepEqual(alignTo([10, 20, 30], [11, 19, 29], [1, 2, 3], 5), [1, 2, 3])
    assert.deepEqual(alignTo([10, 20], [], [], 5), [null, null])
  })

  it('make the answer: Prometheus for rates, pending and lag in records, this member for lag in seconds', () => {
    const ranges = {
      applied: { series: [{ labels: {}, points: [[80, 12.5] as const] }], dropped: 0 },
      deadLetters: { series: [], dropped: 0 },
      pending: { series: [{ labels: {}, points: [[100, 4] as const] }], dropped: 0 },
      lagRecords: {
        series: [
          { labels: { partition: '2' }, points: [[90, 7] as const] },
          { labels: { partition: '0' }, points: [[70, 1] as const] },
          { labels: { partition: 'x' }, points: [[70, 1] as const] },
        ],
        dropped: 1,
      },
    }
    const mine = memory({
      intervalMs: 10_000,
      at: [79_000, 99_500],
      partitions: [{ partition: 0, lagRecords: [3, 4], lagSeconds: [1.5, 2.5] }],
    })
    const answer = seriesFromRanges(span, ranges, mine)
    assert.equal(answer.source, 'prometheus')
    assert.deepEqual(answer.at, span.at)
    assert.equal(answer.intervalMs, 10_000)
    assert.equal(answer.capacity, 4)
    assert.deepEqual(answer.applied, [null, 12.5, null, null])
    assert.deepEqual(answer.deadLetters, [null, null, null, null])
    assert.deepEqual(answer.pending, [null, null, null, 4])
    assert.deepEqual(answer.partitions, [
      { partition: 0, lagRecords: [1, null, null, null], lagSeconds: [null, 1.5, null, 2.5] },
      { partition: 2, lagRecords: [null, null, 7, null], lagSeconds: [null, null, null, null] },
    ])
    assert.equal(answer.partitionsOmitted, 1)
  })
})

describe("this member's samples when Prometheus fails", () => {
  const mine = memory({ at: [1000], applied: [5] })

  it('a refused connection: with a note, and Prometheus left alone for retryAfterMs', async () => {
    const server = createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    await new Promise(resolve => server.close(resolve))
    let now = 1_000_000
    const series = new PrometheusSeries({ url, topic: 'events', memory: () => mine, now: () => now })
    const answer = await series.answer()
    assert.equal(answer.source, 'memory')
    assert.deepEqual(answer.applied, [5])
    assert.match(
      answer.note ?? '',
      /^Prometheus \(http:\/\/127\.0\.0\.1:\d+\): .+\. Showing this member's own samples; Prometheus is asked again in 30 s\.$/,
    )
    now += 12_000
    assert.match((await series.answer()).note ?? '', /asked again in 18 s\.$/)
  })

  it('no answer in time: given up at the deadline, not asked again until retryAfterMs passed', async () => {
    let requests = 0
    const server = createServer(() => {
      requests++
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      let now = Date.now()
      const series = new PrometheusSeries({ url, topic: 'events', memory: () => mine, timeoutMs: 300, now: () => now })
      const started = Date.now()
      const answer = await series.answer()
      assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`)
      assert.match(answer.note ?? '', /no answer in time/)
      const asked = requests
      assert.ok(asked >= 1)
      assert.equal((await series.answer()).source, 'memory')
      assert.equal(requests, asked, 'not asked again within retryAfterMs')
      now += 31_000
      await series.answer()
      assert.ok(requests > asked, 'asked again after retryAfterMs')
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})

describe('a real Prometheus scraping a real consumer', { skip: findTool('prometheus').missing }, () => {
  it("answers the group's series through GET /admin/series, after saying when it holds none", async t => {
    const topic = await kafkaTopic(t, 3)
    const { prefix } = redisPrefix(t)
    const metricsPort = await freePort()
    const prometheus = await startPrometheus(
      t,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: "consumer"',
        '    static_configs:',
        `      - targets: ["127.0.0.1:${metricsPort}"]`,
        '',
      ].join('\n'),
    )
    const config = loadConfig({
      KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `${topic}-group`,
      REDIS_ADDR: testServices.redisAddr,
      REDIS_PASSWORD: testServices.redisPassword,
      DLQ_KEY: `${prefix}dlq`,
      DATABASE_URL: `sqlite:${sqliteFile(t)}`,
      CONSOLE_CHART_INTERVAL: '1s',
    })
    const role = await createConsumerRole(config, { logger: createLogger('silent', 'consumer') })
    t.after(() => stopRoles([role]))
    const mine = () => role.service.series()

    // Nothing scraped yet: this member's samples, and why.
    const empty = await new PrometheusSeries({ url: prometheus.url, topic, memory: mine }).answer()
    assert.equal(empty.source, 'memory')
    assert.match(empty.note ?? '', /holds no messages_processed_total of a consumer \(is the consumer scraped\?\)/)

    await role.start()
    await role.app.listen({ port: metricsPort, host: '127.0.0.1' })
    await eventually(
      'Prometheus to scrape the consumer',
      async () => (await prometheus.query('up{job="consumer"}'))[0]?.value[1] === '1',
    )
    // A rate needs the counter to grow between scrapes: records arrive over some seconds.
    for (let round = 0; round < 5; round++) {
      const users = Array.from({ length: 40 }, (_, k) => userCreated(`prom-user-${round}-${k}`))
      await produceRaw(
        topic,
        users.map(u => ({ key: u.data.userId, value: JSON.stringify(u) })),
      )
      await new Promise(resolve => setTimeout(resolve, 1000))
    }
    await eventually(
      'Prometheus to hold a rate of applied records above 0',
      async () => {
        const rates = await prometheus.query('sum(rate(messages_processed_total{role="consumer"}[60s]))')
        return rates.some(s => Number(s.value[1]) > 0)
      },
      30_000,
    )

    const app = buildBaseApp({
      role: 'consumer',
      logger: createLogger('silent', 'consumer'),
      registry: new Registry(),
      ready: async () => ({}),
      adminToken: token,
    })
    registerSeriesRoutes(app, token, { memory: mine, prometheus: { url: prometheus.url, topic } })
    await eventually(
      "the series from Prometheus: applied records, each partition's lag back at 0, lag in seconds from here",
      async () => {
        const r = await app.inject({ url: '/admin/series', headers: { authorization: `Bearer ${token}` } })
        assert.equal(r.statusCode, 200)
        const answer = r.json()
        if (answer.source !== 'prometheus') throw new Error(`answered from memory: ${answer.note}`)
        assert.equal(answer.intervalMs, 1000)
        assert.equal(answer.at.length, 360)
        const last = (column: (number | null)[]) => column.findLast((v: number | null) => v !== null)
        return (
          answer.applied.some((v: number | null) => v !== null && v > 0) &&
          answer.partitions.length === 3 &&
          answer.partitions.every(
            (p: { lagRecords: (number | null)[]; lagSeconds: (number | null)[] }) =>
              last(p.lagRecords) === 0 && p.lagSeconds.some(v => v !== null),
          )
        )
      },
      30_000,
    )
  })
})
