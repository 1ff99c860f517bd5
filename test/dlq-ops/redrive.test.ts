// The redrive against real Redis and Kafka: what a copy looks like, when an entry leaves the DLQ, and how a run
// that died with sends in doubt is completed without losing or repeating one.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { Producer } from '@platformatic/kafka'
import { createRedisClient, createRedisDlq, type DeadLetter, type DeadLetterQueue } from '../../src/dlq/index.ts'
import { createDlqAdmin, type DlqAdmin, RedriveBusy } from '../../src/dlq-ops/index.ts'
import { createJobStore, jobKeyOf, jobsKeyOf } from '../../src/dlq-ops/job-store.ts'
import { move } from '../../src/dlq-ops/redrive-plan.ts'
import { endOffsets, partitionOf } from '../../src/kafka/index.ts'
import { readTopic } from '../helpers/kafka.ts'
import { letter } from '../helpers/letters.ts'
import { checkCopies } from '../helpers/redrive-copies.ts'
import { type Cleanup, kafkaTopic, redisPrefix } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const connection = { clientId: 'test-redrive', bootstrapBrokers: [...testServices.kafkaBrokers] }

function setup(
  t: Cleanup,
  key: string,
  topic: string,
): { dlq: DeadLetterQueue; admin: DlqAdmin; redis: ReturnType<typeof createRedisClient> } {
  const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
  const redis = createRedisClient({ addr: testServices.redisAddr, password: testServices.redisPassword })
  const admin = createDlqAdmin({
    dlq,
    redis,
    key,
    connection,
    defaultTopic: topic,
    bodyLimitBytes: 1024 * 1024,
    kafkaTimeoutMs: 2000,
    leaseMs: 3000,
    leaseMarginMs: 500,
    onClose: async () => {
      redis.disconnect()
      await dlq.close()
    },
  })
  t.after(() => admin.close())
  return { dlq, admin, redis }
}

const dead = (n: number, topic: string): DeadLetter => letter(n, { topic, key: `key-${n % 7}` })

async function redriveAll(admin: DlqAdmin, filter = {}) {
  const request = { filter, who: 'test' }
  const selection = await admin.select(request)
  const created = await admin.create(request, selection)
  return { selection, created, status: await admin.run(created.id, { who: 'test', resumed: false }) }
}

describe('redrive', () => {
  it("sends each entry's record once, on its key's partition, with headers, and only then removes it", async t => {
    const topic = await kafkaTopic(t, 3)
    const { prefix } = redisPrefix(t)
    const { dlq, admin } = setup(t, `${prefix}dlq`, topic)
    const letters = Array.from({ length: 30 }, (_, n) => dead(n, topic))
    const producerEntry = letter(100, { source: 'producer', topic: null, partition: null, offset: null })
    const cut = letter(101, { topic, payloadTruncated: true, payloadBytes: 1 << 20, payloadSha256: 'ab' })
    await dlq.push([...letters, producerEntry, cut])

    const { selection, status } = await redriveAll(admin)
    assert.equal(status.state, 'done')
    assert.equal(status.total, 30)
    assert.equal(status.sent, 30)
    assert.deepEqual(
      selection.notRedrivable.map(n => n.letter.eventId),
      ['e-100', 'e-101'],
    )

    const records = await readTopic(topic)
    assert.equal(records.length, 30)
    const check = checkCopies(
      records,
      letters.map(l => l.eventId as string),
    )
    assert.deepEqual([check.duplicates, check.missing, check.unexpected], [[], [], []])
    for (const r of records) {
      const n = Number(r.headers.get('eventId')?.slice(2))
      const original = letters[n] as DeadLetter
      assert.equal(r.key?.toString(), original.key)
      assert.equal(r.partition, partitionOf(original.key as string, 3))
      assert.equal(r.value?.toString(), original.payload)
      assert.equal(r.headers.get('x-redrive-source'), `${topic}/${original.partition}/${original.offset}`)
      assert.equal(r.headers.get('x-redrive-id'), status.id)
    }
    // Per key, the copies keep the order the entries failed in (oldest first).
    for (let k = 0; k < 7; k++) {
      const order = records
        .filter(r => r.key?.toString() === `key-${k}`)
        .map(r => Number(r.headers.get('x-redrive-entry')))
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
      )
    }
    assert.deepEqual(
      (await dlq.list()).map(l => l.eventId),
      ['e-101', 'e-100'],
      'only what could not be sent is left',
    )
    assert.equal((await dlq.eventPage('e-3', 10)).total, 0, 'the index forgot the removed entries')
    const audit = await admin.audit(10)
    assert.deepEqual(
      audit.map(a => [a.action, a.count, a.redriveId]),
      [
        ['redrive-finish', 30, status.id],
        ['redrive', 30, status.id],
      ],
    )
    assert.deepEqual(audit[0]?.outcome, { total: 30, pending: 0, sent: 30, failed: 0, gone: 0 })
  })

  it('completes a run that died with sends in doubt: what Kafka holds is not sent again', async t => {
    const topic = await kafkaTopic(t, 2)
    const { prefix, redis } = redisPrefix(t)
    const key = `${prefix}dlq`
    const { dlq, admin } = setup(t, key, topic)
    const letters = Array.from({ length: 10 }, (_, n) => dead(n, topic))
    await dlq.push(letters)
    const request = { filter: {}, who: 'test' }
    const selection = await admin.select(request)
    const { id } = await admin.create(request, selection)

    // A run that marked entries 1-4 as sending, got 1 and 2 into Kafka, and died before it recorded anything more.
    const store = createJobStore(redis, key)
    const job = await store.load(id)
    assert.ok(job)
    const ends = await endOffsets(connection, topic, 5000)
    const inDoubt = job.entries.slice(0, 4).map(e => {
      const partition = partitionOf(e.key as string, 2)
      return move(e, 'sending', { partition, mark: String(ends[partition]) })
    })
    const deadRun = await store.lease(id, randomUUID(), 60_000)
    assert.ok(deadRun)
    await store.save(id, deadRun, inDoubt, { total: 10, pending: 10, sent: 0, failed: 0, gone: 0 })
    const producer = new Producer({ ...connection, clientId: 'test-dead-run' })
    t.after(() => producer.close())
    await producer.send({
      messages: inDoubt.slice(0, 2).map(e => ({
        topic,
        partition: e.partition as number,
        key: Buffer.from(e.key as string),
        value: Buffer.from(letters[e.n - 1]?.payload as string),
        headers: new Map([
          [Buffer.from('x-redrive-id'), Buffer.from(id)],
          [Buffer.from('x-redrive-entry'), Buffer.from(String(e.n))],
          [Buffer.from('eventId'), Buffer.from(e.eventId as string)],
        ]),
      })),
    })
    await store.release(id, deadRun) // as its expiry would

    const status = await admin.run(id, { who: 'test', resumed: true })
    assert.equal(status.state, 'done')
    assert.equal(status.sent, 10)
    const check = checkCopies(
      await readTopic(topic),
      letters.map(l => l.eventId as string),
    )
    assert.deepEqual([check.duplicates, check.missing, check.unexpected], [[], [], []])
    assert.equal(await dlq.length(), 0)
    assert.deepEqual(
      (await admin.audit(10)).map(a => a.action),
      ['redrive-finish', 'redrive-resume', 'redrive'],
    )
  })

  it('the exactly-once check reports an entry sent twice', async t => {
    const topic = await kafkaTopic(t, 1)
    const { prefix } = redisPrefix(t)
    const { dlq, admin } = setup(t, `${prefix}dlq`, topic)
    const one = dead(1, topic)
    await dlq.push([one])
    await redriveAll(admin)
    // The same entry dead-lettered and redriven again: a second copy of one eventId.
    await dlq.push([{ ...one, offset: '999' }])
    await redriveAll(admin)
    const check = checkCopies(await readTopic(topic), ['e-1'])
    assert.deepEqual(check.duplicates, ['e-1'])
    assert.equal(check.copies.get('e-1'), 2)
  })

  it('lets one run at a time hold a job, and one open job hold an entry', async t => {
    const topic = await kafkaTopic(t, 1)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const { dlq, admin } = setup(t, key, topic)
    await dlq.push([dead(1, topic), dead(2, topic)])
    const request = { filter: {}, who: 'test', rate: 1 }
    const first = await admin.create(request, await admin.select(request))
    const second = await admin.create(request, await admin.select(request))
    assert.deepEqual([first.count, second.count, second.heldElsewhere], [2, 0, 2])
    const { redis } = redisPrefix(t)
    const other = await createJobStore(redis, key).lease(first.id, randomUUID(), 5000)
    assert.ok(other)
    await assert.rejects(admin.run(first.id, { who: 'test', resumed: true }), RedriveBusy)
    await createJobStore(redis, key).release(first.id, other)
    await admin.cancel(first.id)
    const cancelled = await admin.run(first.id, { who: 'test', resumed: true })
    assert.equal(cancelled.state, 'cancelled')
    assert.equal(await dlq.length(), 2, 'a cancelled job leaves its unsent entries in the DLQ')
    const third = await admin.create({ filter: {}, who: 'test' }, await admin.select({ filter: {}, who: 'test' }))
    assert.equal(third.count, 2, 'and frees them for the next redrive')
  })

  it('ends with a clear error, not a status, when its job is removed while it runs', async t => {
    const topic = await kafkaTopic(t, 1)
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const { dlq, admin, redis } = setup(t, key, topic)
    await dlq.push([dead(1, topic), dead(2, topic)])
    const request = { filter: {}, who: 'test' }
    const job = await admin.create(request, await admin.select(request))
    // Stopped (as by a shutdown) once the job's keys are gone: the run writes nothing more, so only the final
    // status read meets the missing job. The removal goes over the run's own connection, so it comes first.
    const stop = new AbortController()
    const run = admin.run(job.id, {
      who: 'test',
      resumed: false,
      signal: stop.signal,
      onProgress: () => {
        if (stop.signal.aborted) return
        stop.abort()
        void redis.del(jobKeyOf(key, job.id))
      },
    })
    await assert.rejects(run, new RegExp(`redrive job ${job.id} was removed while it ran`))
  })

  it('deletes finished jobs past their retention when a new one is created, and keeps open ones', async t => {
    const { prefix, redis } = redisPrefix(t)
    const key = `${prefix}dlq`
    const store = createJobStore(redis, key)
    const old = new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString()
    await store.create({ id: 'rd-old-00000001', who: 't', createdAt: old, filter: {} }, [])
    const run = await store.lease('rd-old-00000001', 'token', 5000)
    assert.ok(run)
    await store.finish('rd-old-00000001', run, 'done')
    await store.create({ id: 'rd-old-00000002', who: 't', createdAt: old, filter: {} }, [])
    await store.create({ id: 'rd-new-00000003', who: 't', createdAt: new Date().toISOString(), filter: {} }, [])
    assert.equal(await store.status('rd-old-00000001'), undefined)
    assert.equal((await store.status('rd-old-00000002'))?.state, 'running')
    assert.deepEqual(await redis.zrange(jobsKeyOf(key), '0', '-1'), ['rd-old-00000002', 'rd-new-00000003'])
  })
})
