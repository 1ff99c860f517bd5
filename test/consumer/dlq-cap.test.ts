// The consumer's DLQ caps: past CONSUMER_DLQ_MAX_ENTRIES a bad record is neither dropped nor committed. The
// consumer holds its partition, says so (metric, /ready's processing detail, a log line per interval) and goes
// on by itself once an operator makes room.
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { createStore } from '../../src/store/index.ts'
import { userCreated } from '../helpers/events.ts'
import { committedOffsets, eventually, produceRaw } from '../helpers/kafka.ts'
import { kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { startConsumer } from './harness.ts'

it('holds a partition uncommitted while the DLQ is at the consumer cap, and resumes once room is made', async t => {
  const { redis, prefix } = redisPrefix(t)
  const dlqKey = `${prefix}dlq`
  const topic = await kafkaTopic(t, 1)
  const store = await createStore({ engine: 'sqlite', path: sqliteFile(t) })
  await store.migrate()
  t.after(() => store.close())
  const { service, groupId, registry } = await startConsumer(t, {
    topic,
    store,
    dlqKey,
    env: { CONSUMER_DLQ_MAX_ENTRIES: '3' },
  })

  // Five poison records, then a good one: three fit the cap, the fourth holds the partition.
  const good = userCreated('capped-user')
  await produceRaw(topic, [
    ...Array.from({ length: 5 }, (_, n) => ({ key: `p${n}`, value: `not json ${n}` })),
    { key: good.data.userId, value: JSON.stringify(good) },
  ])
  await eventually('the consumer reports the DLQ full', () => service.status().degraded?.code === 'DLQ_FULL')
  assert.match(service.status().degraded?.message ?? '', /CONSUMER_DLQ_MAX_ENTRIES/)
  assert.match(await registry.metrics(), /dlq_cap_reached\{role="consumer"\} 1/)
  await new Promise(resolve => setTimeout(resolve, 1000))
  // What the log and Redis show, not what the consumer says: three entries, and no offset past them committed.
  const held = await redis.lrange(dlqKey, 0, -1)
  assert.deepEqual(
    held.map(e => JSON.parse(e).payload),
    ['not json 2', 'not json 1', 'not json 0'],
  )
  const committed = (await committedOffsets(groupId, topic)).get(0)
  assert.ok(committed === undefined || committed <= 3n, `committed ${committed}: past a record not dead-lettered`)

  // An operator makes room (here: removes the entries, as a redrive or a purge would).
  await redis.del(dlqKey)
  await eventually('every offset committed', async () => (await committedOffsets(groupId, topic)).get(0) === 6n)
  const entries = await redis.lrange(dlqKey, 0, -1)
  assert.deepEqual(
    entries.map(e => JSON.parse(e).payload),
    ['not json 4', 'not json 3'],
  )
  assert.ok(await store.getUser(good.data.userId))
  assert.equal(service.status().degraded, undefined)
  assert.match(await registry.metrics(), /dlq_cap_reached\{role="consumer"\} 0/)
  assert.match(await registry.metrics(), /dlq_push_failures_total\{reason="cap",role="consumer"\} [1-9]/)
})
