import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { freePort } from '../../dev/ports.ts'
import { findTool } from '../../dev/tools.ts'
import { createStore } from '../../src/store/index.ts'
import { userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic, sqliteFile, uniqueName } from '../helpers/resources.ts'
import { startConsumer } from './harness.ts'

const redisServer = findTool('redis-server')

/**
 * A private Redis on its own port, so the test can kill and restart it without touching the shared one. It keeps
 * nothing on disk, so it writes nowhere and needs no privilege.
 */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    redisServer.path ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const probe = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => 50,
    maxRetriesPerRequest: 0,
  })
  probe.on('error', () => {})
  await eventually('private redis answers', async () => (await probe.ping().catch(() => '')) === 'PONG', 10_000)
  probe.disconnect()
  return child
}

it('keeps the offset uncommitted while Redis is down, then dead-letters the record exactly once', {
  skip: redisServer.missing,
}, async t => {
  const port = await freePort()
  let redisProcess = await startRedis(port)
  t.after(() => redisProcess.kill('SIGKILL'))
  const topic = await kafkaTopic(t, 1)
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  t.after(() => store.close())
  const dlqKey = uniqueName('dlq')
  const { service, groupId } = await startConsumer(t, { topic, store, dlqKey, redisAddr: `127.0.0.1:${port}` })

  redisProcess.kill('SIGKILL')
  await once(redisProcess, 'exit')
  const good = userCreated(uniqueName('u'))
  await produceRaw(topic, [
    { key: good.data.userId, value: JSON.stringify(good) },
    { key: 'poison', value: 'not json' },
  ])
  await eventually(
    'the consumer reports the DLQ as unavailable',
    () => service.status().degraded?.code === 'DLQ_UNAVAILABLE',
  )
  // Several retries later, still nothing committed: the poison record was neither stored nor dead-lettered.
  await new Promise(resolve => setTimeout(resolve, 1500))
  assert.equal((await committedOffsets(groupId, topic)).get(0), undefined)

  redisProcess = await startRedis(port)
  await eventually('both offsets committed', async () => (await committedOffsets(groupId, topic)).get(0) === 2n)
  const redis = new Redis({ port, host: '127.0.0.1' })
  t.after(() => redis.disconnect())
  const entries = await redis.lrange(dlqKey, 0, -1)
  assert.equal(entries.length, 1, 'dead-lettered exactly once')
  assert.equal(JSON.parse(entries[0] as string).payload, 'not json')
  assert.ok(await store.getUser(good.data.userId))
  assert.equal(service.status().degraded, undefined)
})
