// The DLQ on a real Redis Cluster of three masters, started by this file (dev/redis-cluster.ts) and killed after
// it whatever happens: every key a queue creates lands in the list's slot, the queue works through a Cluster
// client, and the DLQ and admin suites pass against the cluster (run again in a child with REDIS_ADDR naming
// the three nodes). Needs redis-server and redis-cli, and Kafka for the admin suites.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Cluster } from 'ioredis'
import { type LocalRedisCluster, startRedisCluster } from '../../dev/redis-cluster.ts'
import { findTool, skipUnless } from '../../dev/tools.ts'
import {
  connected,
  createRedisClient,
  createRedisDlq,
  type DeadLetter,
  dlqKeys,
  type RedisClient,
} from '../../src/dlq/index.ts'
import { createDlqAdmin } from '../../src/dlq-ops/index.ts'
import { createJobStore } from '../../src/dlq-ops/job-store.ts'
import { PipelineError } from '../../src/errors.ts'
import { eventually } from '../helpers/kafka.ts'
import { letter } from '../helpers/letters.ts'
import { kafkaTopic, nodeOf, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))
const suiteMs = 150_000

/** Why this file cannot run here, if it cannot. */
function unable(): string | undefined {
  if (testServices.redisCluster) return 'the suite already runs against a Redis Cluster'
  return skipUnless(findTool('redis-server'), findTool('redis-cli'))
}

/** The test files of the Redis-backed DLQ and admin suites (this one aside). */
function suiteFiles(): string[] {
  const dlq = readdirSync(`${root}test/dlq`)
    .filter(f => f.endsWith('.test.ts') && f !== 'cluster.test.ts')
    .map(f => `test/dlq/${f}`)
  return [...dlq, 'test/dlq-ops/redrive.test.ts', 'test/dlq-ops/redrive-fence.test.ts', 'test/admin/routes.test.ts']
}

/** Every key matching `pattern` on every master, with the master that holds it. */
async function keysOnMasters(cluster: Cluster, pattern: string): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for (const node of cluster.nodes('master')) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
      for (const key of keys) found.set(key, `${node.options.host}:${node.options.port}`)
      cursor = next
    } while (cursor !== '0')
  }
  return found
}

const skipped = unable()

describe('the DLQ on a three-master Redis Cluster', { skip: skipped, timeout: suiteMs + 30_000 }, () => {
  let cluster: LocalRedisCluster | undefined
  before(async () => {
    cluster = await startRedisCluster({ timeoutMs: 20_000 })
  })
  after(() => cluster?.stop())
  const addr = () => cluster?.addr ?? ''

  it('keeps every key of a queue in its slot; pushes, finds, removes, rebuilds and purges', async t => {
    const topic = await kafkaTopic(t, 3)
    const key = `${uniqueName('test')}:dlq`
    const redis: RedisClient = createRedisClient({ addr: addr(), cluster: true })
    const dlq = createRedisDlq({ addr: addr(), cluster: true, key })
    const admin = createDlqAdmin({
      dlq,
      redis,
      key,
      connection: { clientId: 'test-cluster', bootstrapBrokers: [...testServices.kafkaBrokers] },
      defaultTopic: topic,
      bodyLimitBytes: 1024 * 1024,
      kafkaTimeoutMs: 2000,
      onClose: async () => {
        redis.disconnect()
        await dlq.close()
      },
    })
    t.after(() => admin.close())
    assert.ok(redis instanceof Cluster)

    const letters: DeadLetter[] = [
      ...Array.from({ length: 30 }, (_, n) => letter(n, { topic, eventId: `e-${n % 3}` })),
      letter(100, { topic: null, partition: null, offset: null, source: 'producer', eventId: 'e-1' }),
    ]
    assert.equal((await dlq.push(letters)).pushed, 31)
    assert.equal((await dlq.push(letters.slice(0, 10))).pushed, 0, 'a repeat is skipped')
    assert.equal(await dlq.length(), 31)

    // A paged lookup by eventId, newest first.
    const first = await dlq.eventPage('e-1', 4)
    assert.equal(first.total, 11)
    assert.equal(first.entries[0]?.letter.source, 'producer')
    let seen = first.entries.length
    for (let next = first.next; next !== null; ) {
      const page = await dlq.eventPage('e-1', 4, next)
      seen += page.entries.length
      next = page.next
    }
    assert.equal(seen, 11)

    // Removal, rebuild, and a redrive job with its lease and claims.
    assert.deepEqual(await dlq.remove([first.entries[0]?.entry as string]), [true])
    assert.equal(await dlq.reindex(), 30)
    assert.equal((await dlq.eventPage('e-1', 100)).total, 10)
    const request = { filter: { eventId: 'e-2' }, who: 'test' }
    const job = await admin.create(request, await admin.select(request))
    assert.equal(job.count, 10)
    assert.ok(await createJobStore(redis, key).lease(job.id, 'test-run', 60_000))

    // Purge: what the job claims stays, the rest goes, and the purge is audited.
    const purged = await admin.purge({}, { dryRun: false, who: 'test' })
    assert.deepEqual([purged.count, purged.heldByRedrive], [20, 10])
    assert.equal(await dlq.length(), 10)
    assert.equal((await admin.audit(10))[0]?.action, 'purge')
    const usage = await dlq.usage()
    assert.deepEqual([usage.consumer.entries, usage.producer.entries, usage.indexed], [10, 0, true])

    // Every key the queue made, found by SCAN on each master: one slot, one master.
    const keys = dlqKeys(key)
    const found = await keysOnMasters(redis, `*${key}*`)
    for (const expected of [keys.list, keys.seen, keys.meta, `${keys.prefix}audit`, `${keys.prefix}redrives`]) {
      assert.ok(found.has(expected), `${expected} among ${[...found.keys()].join(' ')}`)
    }
    assert.ok(
      [...found.keys()].some(k => k.startsWith(`${keys.prefix}ev`)),
      'the eventId index',
    )
    const slot = await redis.cluster('KEYSLOT', key)
    for (const k of found.keys()) assert.equal(await redis.cluster('KEYSLOT', k), slot, k)
    assert.equal(new Set(found.values()).size, 1, 'one master holds the whole queue')
  })

  it('answers DLQ_UNAVAILABLE at once, retryable, when no node of the cluster answers', async t => {
    const dlq = createRedisDlq({ addr: '127.0.0.1:1,127.0.0.1:2', key: 'dlq:events', commandTimeoutMs: 500 })
    const redis = createRedisClient({ addr: '127.0.0.1:1,127.0.0.1:2', commandTimeoutMs: 500 })
    const admin = createDlqAdmin({
      dlq,
      redis,
      key: 'dlq:events',
      connection: { clientId: 'test-cluster', bootstrapBrokers: [...testServices.kafkaBrokers] },
      defaultTopic: 'unused',
      bodyLimitBytes: 1024,
      kafkaTimeoutMs: 2000,
      onClose: async () => {
        redis.disconnect()
        await dlq.close()
      },
    })
    t.after(() => admin.close())
    const unavailable = (e: unknown) => e instanceof PipelineError && e.code === 'DLQ_UNAVAILABLE' && e.retryable
    const started = Date.now()
    await assert.rejects(() => dlq.push([letter(1)]), unavailable)
    await assert.rejects(() => dlq.length(), unavailable)
    await assert.rejects(() => admin.audit(1), unavailable)
    await assert.rejects(() => admin.audit(1), unavailable, 'again, while the client reconnects')
    assert.ok(Date.now() - started < 5000, 'no endless wait')
  })

  it('passes the DLQ and admin suites with REDIS_ADDR naming the three nodes', async t => {
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_ADDR: addr(), REDIS_CLUSTER: 'true' }
    // The child is a test run of its own, not a part of this one.
    delete env['NODE_TEST_CONTEXT']
    const child = spawn(process.execPath, ['scripts/test.ts', '--no-checks', '--no-services', ...suiteFiles()], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', chunk => {
      output += chunk
    })
    child.stderr.on('data', chunk => {
      output += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), suiteMs)
    t.after(() => {
      clearTimeout(timer)
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    const code = await new Promise<number | null>(resolve => child.on('close', resolve))
    for (const line of output.split('\n').filter(l => l.includes('# not on a Redis Cluster'))) {
      t.diagnostic(line.trim())
    }
    assert.equal(code, 0, `the suites failed on the cluster:\n${output.slice(-6000)}`)
    assert.match(output, /ℹ fail 0/)
  })

  it('answers DLQ_UNAVAILABLE while the master of the queue is down, and takes pushes again once it is back', async t => {
    const local = cluster as LocalRedisCluster
    const key = `${uniqueName('test')}:dlq`
    const dlq = createRedisDlq({ addr: addr(), cluster: true, key, commandTimeoutMs: 1000 })
    const redis = createRedisClient({ addr: addr(), cluster: true })
    t.after(async () => {
      redis.disconnect()
      await dlq.close()
    })
    await dlq.push([letter(1)])
    await connected(redis)
    const { host, port } = (await nodeOf(redis, key)).options
    const owner = `${host}:${port}`
    await local.kill(owner)
    const unavailable = (e: unknown) => e instanceof PipelineError && e.code === 'DLQ_UNAVAILABLE' && e.retryable
    const started = Date.now()
    await assert.rejects(() => dlq.push([letter(2)]), unavailable)
    await assert.rejects(() => dlq.eventPage('e-1', 10), unavailable)
    assert.ok(Date.now() - started < 10_000, `failed within ${Date.now() - started} ms`)
    await local.restart(owner)
    await eventually(
      'the queue to take pushes again',
      () =>
        dlq.push([letter(3)]).then(
          () => true,
          () => false,
        ),
      20_000,
    )
    // Without persistence the restarted master came back empty: only the push after it is there.
    assert.deepEqual(
      (await dlq.list()).map(l => l.offset),
      ['3'],
    )
  })
})
