// The fenced redrive against real Redis and Kafka: a run cut off from Redis but not from Kafka stops sending
// before its lease expires, the run that takes the job over completes it, and the cut-off run, once Redis answers
// again, writes nothing more. Exactly once is judged from the topic and the DLQ themselves, not from the runs.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRedisClient, createRedisDlq, type DeadLetter } from '../../src/dlq/index.ts'
import { createDlqAdmin, LeaseLost } from '../../src/dlq-ops/index.ts'
import { claimOf, claimsKeyOf, createJobStore, leaseKeyOf } from '../../src/dlq-ops/job-store.ts'
import { readTopic } from '../helpers/kafka.ts'
import { letter } from '../helpers/letters.ts'
import { tcpProxy } from '../helpers/proxy.ts'
import { checkCopies } from '../helpers/redrive-copies.ts'
import { type Cleanup, kafkaTopic, redisPrefix, standaloneOnly } from '../helpers/resources.ts'
import { redisHostPort, testServices } from '../helpers/services.ts'

const connection = { clientId: 'test-redrive-fence', bootstrapBrokers: [...testServices.kafkaBrokers] }
// A lease of 2.5 s around sends of at most 1 s: a cut-off run's lease expires quickly.
const timings = { kafkaTimeoutMs: 1000, leaseMs: 2500, leaseMarginMs: 300 }

/** A runner of its own (DLQ client, job client, Kafka clients) on the Redis at `addr`. */
function runner(t: Cleanup, addr: string, key: string, topic: string, commandTimeoutMs = 2000) {
  const redisOptions = { addr, password: testServices.redisPassword, commandTimeoutMs }
  const dlq = createRedisDlq({ ...redisOptions, key })
  const redis = createRedisClient(redisOptions)
  const admin = createDlqAdmin({
    dlq,
    redis,
    key,
    connection,
    defaultTopic: topic,
    bodyLimitBytes: 1024 * 1024,
    ...timings,
    onClose: async () => {
      redis.disconnect()
      await dlq.close()
    },
  })
  t.after(() => admin.close())
  return { dlq, admin }
}

async function until(what: string, done: () => Promise<boolean>, withinMs: number): Promise<void> {
  const giveUpAt = Date.now() + withinMs
  while (!(await done())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> =>
  Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not over in ${ms} ms`)), ms).unref()),
  ])

describe('fenced redrive', () => {
  // A's Redis commands either wait out the partition (what A sent arrives late, as over TCP once a partition
  // heals) or time out first, as with the default REDIS_TIMEOUT_MS.
  for (const commandTimeoutMs of [30_000, 2000]) {
    it(`a run cut off from Redis sends nothing after its lease, and writes nothing once back (commands time out after ${commandTimeoutMs} ms)`, {
      timeout: 60_000,
    }, async t => {
      if (standaloneOnly(t, 'a cluster client learns the nodes from the cluster, around a proxy')) return
      const n = 60
      const topic = await kafkaTopic(t, 3)
      const { prefix, redis } = redisPrefix(t)
      const key = `${prefix}dlq`
      const { host, port } = redisHostPort()
      const proxy = await tcpProxy(t, host, port)
      // B reaches Redis directly; A through the proxy.
      const b = runner(t, testServices.redisAddr, key, topic)
      const a = runner(t, `127.0.0.1:${proxy.port}`, key, topic, commandTimeoutMs)
      const letters: DeadLetter[] = Array.from({ length: n }, (_, i) => letter(i, { topic, key: `key-${i % 7}` }))
      await b.dlq.push(letters)
      const request = { filter: {}, who: 'test', rate: 20 }
      const { id, count } = await b.admin.create(request, await b.admin.select(request))
      assert.equal(count, n)

      // A runs at 20 records/s; a quarter of the way in, at a random point of its cycle, Redis stops answering it.
      let cutOff: (() => void) | undefined
      const partitioned = new Promise<void>(resolve => {
        cutOff = resolve
      })
      const runA = a.admin.run(id, {
        who: 'runner-a',
        resumed: false,
        onProgress: p => {
          const cut = cutOff
          if (p.sent < n / 4 || cut === undefined) return
          cutOff = undefined
          setTimeout(() => {
            proxy.hold()
            cut()
          }, Math.random() * 90)
        },
      })
      const outcomeA = runA.then(
        status => ({ status, error: undefined }),
        (error: unknown) => ({ status: undefined, error }),
      )
      await within(20_000, 'the partition', partitioned)

      // B, as `dlq redrive --resume` runs it, once A's lease has expired.
      await until('the lease to expire', async () => (await redis.pttl(leaseKeyOf(key, id))) < 0, 10_000)
      const statusB = await within(
        30_000,
        'runner B',
        b.admin.run(id, { who: 'runner-b', resumed: true, waitForLease: true }),
      )
      assert.equal(statusB.state, 'done')

      // The partition heals: what A sent arrives, and A goes on from where it was, with what it knew.
      await proxy.restore()
      const { error } = await within(20_000, 'runner A', outcomeA)

      // Exactly once, from the topic: each entry's copy once, under its identity (job id, entry number, eventId).
      const records = await readTopic(topic, { timeoutMs: 15_000 })
      const check = checkCopies(
        records,
        letters.map(l => l.eventId as string),
      )
      assert.deepEqual(
        { duplicates: check.duplicates, missing: check.missing, unexpected: check.unexpected },
        { duplicates: [], missing: [], unexpected: [] },
      )
      const byEntry = new Map<string, number>()
      for (const r of records) {
        assert.equal(r.headers.get('x-redrive-id'), id)
        const entry = r.headers.get('x-redrive-entry') as string
        byEntry.set(entry, (byEntry.get(entry) ?? 0) + 1)
        assert.equal(r.headers.get('eventId'), letters[Number(entry) - 1]?.eventId, `entry ${entry} carries its event`)
      }
      assert.equal(records.length, n)
      assert.deepEqual(
        [...byEntry.keys()].map(Number).sort((x, y) => x - y),
        Array.from({ length: n }, (_, i) => i + 1),
      )
      // And from Redis: the DLQ holds none of the entries (list and index), and no claim of the job is left.
      assert.equal(await redis.llen(key), 0)
      for (const l of letters) assert.equal((await b.dlq.eventPage(l.eventId as string, 10)).total, 0)
      assert.deepEqual(
        Object.values(await redis.hgetall(claimsKeyOf(key))).filter(owner => owner === id),
        [],
      )
      assert.equal((await b.admin.status(id))?.state, 'done', "A's late writes did not change the job")
      assert.ok(error instanceof LeaseLost, `runner A stops for its lease, not with ${String(error)}`)
      assert.match(error.message, /lost its lease/)
      t.diagnostic(error.message)
    })
  }

  it("refuses an expired run's writes, and an older run's once a newer one took the job over", async t => {
    const { prefix, redis } = redisPrefix(t)
    const key = `${prefix}dlq`
    const store = createJobStore(redis, key)
    const id = 'rd-fence-00000001'
    const entry = { n: 1, entries: ['x'], eventId: 'e-1', key: 'k', topic: 't', source: 't/0/1', originalPartition: 0 }
    await store.create({ id, who: 't', createdAt: new Date().toISOString(), filter: {} }, [
      { ...entry, state: 'pending' },
    ])
    const tally = { total: 1, pending: 1, sent: 0, failed: 0, gone: 0 }
    const older = await store.lease(id, 'older', 100)
    assert.ok(older)
    await store.save(id, older, [{ ...entry, state: 'sending', mark: '0', partition: 0 }], tally)
    await new Promise(resolve => setTimeout(resolve, 150))
    await assert.rejects(store.save(id, older, [{ ...entry, state: 'sent' }], tally), LeaseLost, 'expired')
    assert.equal(await store.renew(id, older, 5000), false)

    const newer = await store.lease(id, 'newer', 5000)
    assert.ok(newer)
    assert.ok(newer.fence > older.fence)
    await store.save(id, newer, [{ ...entry, state: 'done' }], tally)
    await assert.rejects(store.save(id, older, [{ ...entry, state: 'pending' }], tally), LeaseLost)
    await assert.rejects(store.finish(id, older, 'failed', 'stale'), LeaseLost)
    await assert.rejects(store.reopen(id, older), LeaseLost)
    await assert.rejects(store.releaseClaims(id, older, [{ ...entry, state: 'done' }]), LeaseLost)
    await store.release(id, older)
    assert.ok((await store.leaseLeft(id)) > 0, "an older run's release leaves the newer lease alone")
    const job = await store.load(id)
    assert.equal(job?.entries[0]?.state, 'done')
    assert.equal(job?.state, 'running')
    assert.equal(await redis.hget(claimsKeyOf(key), claimOf('x')), id)
  })
})
