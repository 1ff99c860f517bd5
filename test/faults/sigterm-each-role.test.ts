// Fault 6: SIGTERM under load to each role: clean drain, exit code 0 within 10 s, nothing acknowledged lost.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Consumer } from '@platformatic/kafka'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceAtRate, readTopic } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { inFlight, makeWorkload, sum, waitCommitted } from './workload.ts'

/** Runs `request` from `workers` loops until `stop` resolves; returns the statuses seen. */
async function load(workers: number, request: () => Promise<number>, stop: Promise<unknown>): Promise<number[]> {
  const statuses: number[] = []
  let stopped = false
  void stop.then(() => {
    stopped = true
  })
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stopped) statuses.push(await request().catch(() => 0))
    }),
  )
  return statuses
}

describe('fault 6: SIGTERM under load', () => {
  it('producer: answers every request it accepted, exits cleanly, and every acknowledged event is in Kafka', async t => {
    const topic = await kafkaTopic(t, 3)
    const p = await startPipeline(t, 'producer', { KAFKA_TOPIC: topic, LOG_LEVEL: 'ERROR', DLQ_KEY: uniqueName('dlq') })
    const acked = new Set<string>()
    let stopResult: { code: number | null; ms: number } | undefined
    const stopping = (async () => {
      await new Promise(resolve => setTimeout(resolve, 1500))
      stopResult = await p.stop('SIGTERM')
    })()
    const statuses = await load(
      8,
      async () => {
        const e = userCreated(uniqueName('u'))
        const r = await fetch(`${p.urls.producer}/produce`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(e),
        })
        if (r.status === 200) acked.add(e.eventId)
        await r.body?.cancel()
        return r.status
      },
      stopping,
    )
    assert.equal(stopResult?.code, 0, p.stderr.join(''))
    assert.ok((stopResult?.ms ?? 99_999) < 10_000, `exit took ${stopResult?.ms} ms`)
    assert.ok(acked.size > 0)
    assert.ok(
      statuses.every(s => s === 200 || s === 503 || s === 0),
      `only 200, 503 or refused: ${[...new Set(statuses)]}`,
    )

    const seen = new Set<string>()
    const check = new Consumer({
      clientId: 'f6',
      groupId: uniqueName('f6'),
      bootstrapBrokers: [...testServices.kafkaBrokers],
    })
    t.after(() => check.close(true))
    const stream = await check.consume({ topics: [topic], mode: 'earliest', autocommit: false, maxWaitTime: 200 })
    const reading = (async () => {
      for await (const message of stream) {
        seen.add(JSON.parse(message.value.toString()).eventId)
        if ([...acked].every(id => seen.has(id))) break
      }
    })()
    await eventually('every acknowledged event read back', () => [...acked].every(id => seen.has(id)), 30_000)
    await stream.close()
    await reading.catch(() => {})
    // Every acknowledged event reaches the projection: a consumer drains the topic into a fresh database and
    // the checker compares (the producer must also have published nothing the consumer has to refuse).
    const databaseUrl = await postgresDatabase(t)
    const store = await createStore({ engine: 'postgres', url: databaseUrl })
    await store.migrate()
    t.after(() => store.close())
    const dlqKey = uniqueName('dlq')
    const { groupId } = await startConsumer(t, { topic, store, dlqKey })
    const inTopic = BigInt((await readTopic(topic)).length)
    await waitCommitted(groupId, topic, inTopic, 60_000)
    const result = await checkOutcome({ eventIds: [...acked] }, { topic, databaseUrl, dlqKey })
    assert.equal(result.stats.invalid, 0, 'the producer published only valid events')
    assertClean('sigterm-producer', 1, stopResult?.code === 0 ? 1 : 0, result)
  })

  it('consumer: finishes the batch in hand, commits, exits; a restart applies the rest exactly once', async t => {
    const topic = await kafkaTopic(t, 3)
    const url = await postgresDatabase(t)
    const workload = makeWorkload(uniqueName('s'), { users: 300, payments: true, deltas: 2000, partitions: 3 })
    const env = {
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: uniqueName('g'),
      DLQ_KEY: uniqueName('dlq'),
      DATABASE_URL: url,
      LOG_LEVEL: 'ERROR',
      CONSUMER_BATCH_MAX: '100',
      PENDING_MAX_AGE: '1h',
    }
    const stream = produceAtRate(topic, workload.records, 1000)
    const first = await startPipeline(t, 'consumer', env)
    await eventually('progress', async () => sum((await committedOffsets(env.KAFKA_GROUP_ID, topic)).values()) > 0n)
    await inFlight(env.KAFKA_GROUP_ID, topic, 0n, () => stream.acknowledged())
    const { code, ms } = await first.stop('SIGTERM')
    assert.equal(code, 0)
    assert.ok(ms < 10_000, `exit took ${ms} ms`)
    await startPipeline(t, 'consumer', env)
    await stream.done
    const { complete } = await waitCommitted(env.KAFKA_GROUP_ID, topic, BigInt(workload.records.length), 60_000)
    const result = await checkOutcome({ records: workload.records }, { topic, databaseUrl: url, dlqKey: env.DLQ_KEY })
    assertClean('sigterm-consumer', 1, complete && code === 0 ? 1 : 0, result)
  })

  it('read API: serves requests in flight, exits cleanly', async t => {
    const p = await startPipeline(t, 'api', { DATABASE_URL: `sqlite:${sqliteFile(t)}`, LOG_LEVEL: 'ERROR' })
    let stopResult: { code: number | null; ms: number } | undefined
    const stopping = (async () => {
      await new Promise(resolve => setTimeout(resolve, 1000))
      stopResult = await p.stop('SIGTERM')
    })()
    const statuses = await load(
      8,
      async () => {
        const r = await fetch(`${p.urls.api}/orders/${uniqueName('o')}`)
        await r.body?.cancel()
        return r.status
      },
      stopping,
    )
    assert.equal(stopResult?.code, 0, p.stderr.join(''))
    assert.ok((stopResult?.ms ?? 99_999) < 10_000)
    assert.ok(statuses.filter(s => s === 404).length > 0, 'served requests under load')
    assert.ok(
      statuses.every(s => s === 404 || s === 503 || s === 0),
      `no 5xx other than 503: ${[...new Set(statuses)]}`,
    )
  })
})
