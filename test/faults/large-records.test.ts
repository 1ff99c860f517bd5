// Hostile load on the consumer: records of 1 MB arrive among valid events. Memory is bounded by bytes, not
// records, so the consumer's RSS stays bounded; each large record is dead-lettered once as RECORD_TOO_LARGE
// without being parsed, and its partition moves on to the valid events behind it.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { produceRaw, type RawRecord } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'
import { assertClean, checkOutcome } from './checker.ts'
import { consumerEnv, full, makeWorkload, waitCommitted } from './workload.ts'

/** Resident memory of a process, from /proc (Linux), in bytes. */
function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find(l => l.startsWith('VmRSS:'))
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024
}

it('1 MB records among valid events: RSS bounded, each dead-lettered once, the partition moves on', async t => {
  const topic = await kafkaTopic(t, 1)
  const databaseUrl = await postgresDatabase(t)
  const large = full ? 400 : 150
  const recordMaxBytes = 512 * 1024
  const workload = makeWorkload(uniqueName('big'), { users: 50, deltas: 300 })
  // Large records in runs of ten between slices of the valid workload: some batches hold both.
  const records: RawRecord[] = []
  const slice = Math.ceil(workload.records.length / (large / 10))
  for (let i = 0, n = 0; i < workload.records.length || n < large; i += slice) {
    records.push(...workload.records.slice(i, i + slice))
    for (let j = 0; j < 10 && n < large; j++, n++) {
      records.push({ key: `big-${n}`, value: `{"eventId":"big-${n}","pad":"${'x'.repeat(1_000_000)}"}` })
    }
  }
  await produceRaw(topic, records)
  const env = consumerEnv(topic, databaseUrl, { CONSUMER_RECORD_MAX_BYTES: String(recordMaxBytes) })
  const consumer = await startPipeline(t, 'consumer', env)
  const pid = consumer.child.pid!
  let peak = rssOf(pid)
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(pid))
  }, 50)
  t.after(() => clearInterval(sampler))
  const { complete } = await waitCommitted(env.KAFKA_GROUP_ID, topic, BigInt(records.length), 120_000)
  clearInterval(sampler)
  const mb = (n: number) => Math.round(n / 1024 / 1024)
  console.log(
    `large-records: ${large} records of 1 MB among ${workload.records.length}; consumer peak RSS ${mb(peak)} MB`,
  )
  const result = await checkOutcome({ records, recordMaxBytes }, { topic, databaseUrl, dlqKey: env.DLQ_KEY })
  assertClean('large-records', 1, complete ? 1 : 0, result)
  // Without byte bounds, 150 such records took the consumer to 1.9 GB; the buffers now hold at most
  // CONSUMER_BUFFER_MAX_BYTES (32 MiB) and a batch at most CONSUMER_BATCH_MAX_BYTES (8 MiB) of records.
  assert.ok(peak < 400 * 1024 * 1024, `consumer peak RSS ${mb(peak)} MB`)
})
