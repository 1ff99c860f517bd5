// Load: the consumer, as its own process, under a steady offered load of half its measured drain rate.
// Consumer lag must stay bounded, RSS must not grow, and no error may reach the logs.
// `npm run soak` runs 10 minutes (SOAK_SECONDS=600); `npm test` runs a short form.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { ProduceAcks, Producer } from '@platformatic/kafka'
import { inventoryAdjusted, orderPlaced, userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { sum } from './workload.ts'

const seconds = Number(process.env['SOAK_SECONDS'] ?? 20)
const calibration = Number(process.env['SOAK_CALIBRATION_EVENTS'] ?? 20_000)

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

let n = 0
// Users (5,000 keys, each written again and again), orders for users written earlier (on their own
// partitions), and deltas of varying size.
function event(run: string): { key: string; value: string } {
  n++
  if (n % 3 === 0) {
    const sku = `${run}-sku-${n % 50}`
    return { key: sku, value: JSON.stringify(inventoryAdjusted(sku, (n % 7) + 1)) }
  }
  if (n % 3 === 1 && n > 3) {
    const orderId = `${run}-o-${n % 20_000}`
    return { key: orderId, value: JSON.stringify(orderPlaced(orderId, `${run}-u-${(n - 2) % 5000}`)) }
  }
  const userId = `${run}-u-${n % 5000}`
  return { key: userId, value: JSON.stringify(userCreated(userId)) }
}

// The checker keeps the whole topic in memory: past this many records (the 10-minute soak) it is not run.
const checkedUpTo = 500_000

it(`soak: ${seconds} s at half the drain rate, lag bounded, RSS flat, no errors`, {
  timeout: (seconds + 240) * 1000,
}, async t => {
  const topic = await kafkaTopic(t, 3)
  const url = await postgresDatabase(t)
  const run = uniqueName('soak')
  const groupId = uniqueName('g')
  const dlqKey = uniqueName('dlq')
  const kept: { key: string; value: string }[] = []
  const keptRecords = () => kept
  const keep = (e: { key: string; value: string }) => {
    if (kept.length <= checkedUpTo) kept.push(e)
    return e
  }
  const committed = async () => sum((await committedOffsets(groupId, topic)).values())

  // 1. Drain rate, measured here, on this machine, now.
  for (let i = 0; i < calibration; i += 5000) {
    await produceRaw(
      topic,
      Array.from({ length: Math.min(5000, calibration - i) }, () => keep(event(run))),
    )
  }
  const consumer = await startPipeline(t, 'consumer', {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: groupId,
    DLQ_KEY: dlqKey,
    PENDING_MAX_AGE: '1h',
    DATABASE_URL: url,
    LOG_LEVEL: 'WARN',
  })
  const started = Date.now()
  await eventually('calibration drained', async () => (await committed()) === BigInt(calibration), 120_000)
  const drainRate = calibration / ((Date.now() - started) / 1000)
  const rate = Math.max(100, Math.floor(drainRate / 2))

  // 2. Steady load at half of it, sampled every second.
  const producer = new Producer({
    clientId: 'soak',
    bootstrapBrokers: [...testServices.kafkaBrokers],
    acks: ProduceAcks.ALL,
    // A retried send must not write its records twice: the lag is counted from what was produced.
    idempotent: true,
  })
  t.after(() => producer.close())
  let produced = calibration
  const samples: { lag: number; rss: number }[] = []
  const end = Date.now() + seconds * 1000
  let nextTick = Date.now()
  let nextSample = Date.now() + 1000
  while (Date.now() < end) {
    const batch = Array.from({ length: Math.ceil(rate / 10) }, () => {
      const e = keep(event(run))
      return { topic, key: Buffer.from(e.key), value: Buffer.from(e.value) }
    })
    await producer.send({ messages: batch })
    produced += batch.length
    if (Date.now() >= nextSample) {
      samples.push({ lag: produced - Number(await committed()), rss: rssMb(consumer.child.pid as number) })
      nextSample += 1000
    }
    nextTick += 100
    await new Promise(resolve => setTimeout(resolve, Math.max(0, nextTick - Date.now())))
  }
  await eventually('the load drained', async () => (await committed()) === BigInt(produced), 60_000)

  const half = samples.slice(Math.floor(samples.length / 2))
  const maxLag = Math.max(...half.map(s => s.lag))
  const firstRss = Math.max(...samples.slice(0, Math.ceil(samples.length / 4)).map(s => s.rss))
  const lastRss = Math.max(...samples.slice(-Math.ceil(samples.length / 4)).map(s => s.rss))
  const errors = consumer.logs.filter(l => l['level'] === 'error' || l['level'] === 'fatal')
  console.log(
    `soak: drain ${Math.round(drainRate)} events/s, offered ${rate} events/s for ${seconds} s, ${produced} events; ` +
      `max lag (second half) ${maxLag}; RSS ${firstRss.toFixed(0)} → ${lastRss.toFixed(0)} MB; errors ${errors.length}`,
  )
  // Bounded: never more than ~3 s of offered load behind once the run settled.
  assert.ok(maxLag <= rate * 3, `lag ${maxLag} stays under 3 s of load (${rate * 3})`)
  assert.ok(lastRss <= firstRss * 1.25 + 25, `RSS flat: ${firstRss.toFixed(0)} → ${lastRss.toFixed(0)} MB`)
  assert.equal(errors.length, 0, JSON.stringify(errors.slice(0, 3)))
  if (produced > checkedUpTo) console.log(`soak: ${produced} records, above ${checkedUpTo}: checker not run`)
  else assertClean('soak', 0, 0, await checkOutcome({ records: keptRecords() }, { topic, databaseUrl: url, dlqKey }))
})
