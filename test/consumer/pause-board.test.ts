// The pause board against the real Redis: callers racing each other lose no change, waitIdle waits for a
// member's batch in flight and names it when time runs out, a member acts on no record before its first read,
// and an unreadable record pauses everything. The members here are PauseFollowers driven by the test's own
// account of what is in flight (the consume loop's part is test/consumer/pause-service.test.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Registry } from 'prom-client'
import { redisClient } from '../../dev/services.ts'
import { PauseBoard, PauseRequestError, PauseWaitTimeout } from '../../src/consumer/index.ts'
import type { MemberActivity } from '../../src/consumer/pause-board.ts'
import { consumerMetrics, createLogger } from '../../src/observability/index.ts'
import { pauseKeys } from '../../src/redis/keys.ts'
import { type Cleanup, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

function newBoard(t: Cleanup, partitions = 4) {
  const redis = redisClient()
  const groupId = uniqueName('group')
  const topic = uniqueName('topic')
  const keys = pauseKeys(groupId, topic)
  t.after(async () => {
    await redis.del(keys.record, keys.members)
    redis.disconnect()
  })
  const changes: string[] = []
  const make = () =>
    new PauseBoard({
      redis,
      addr: testServices.redisAddr,
      groupId,
      topic,
      partitionCount: async () => partitions,
      onChange: async c => {
        changes.push(`${c.action} ${JSON.stringify(c.scope)} by ${c.by}`)
      },
    })
  return { board: make(), make, redis, keys, changes }
}

const logger = createLogger('silent', 'consumer')

describe('the pause board', () => {
  it('keeps every change when callers write at the same moment', async t => {
    const { board, make, changes } = newBoard(t, 64)
    const others = Array.from({ length: 8 }, make)
    await Promise.all(others.map((b, i) => b.pause([i * 2, i * 2 + 1], `caller ${i}`, 'race')))
    const { record } = await board.state()
    assert.deepEqual(
      Object.keys(record.partitions)
        .map(Number)
        .sort((a, b) => a - b),
      Array.from({ length: 16 }, (_, i) => i),
    )
    assert.equal(record.revision, 8)
    assert.equal(changes.length, 8)
  })

  it('refuses what the topic does not have before it writes anything', async t => {
    const { board, changes } = newBoard(t, 4)
    await assert.rejects(board.pause([4], 'test'), PauseRequestError)
    await assert.rejects(board.pause([0], 'test', 'x'.repeat(201)), /at most 200/)
    await assert.rejects(board.resume([9], 'test'), /partition 9 is not a partition/)
    await board.pause('all', 'test')
    await assert.rejects(board.resume([1], 'test'), /resume all of them/)
    assert.equal((await board.state()).record.revision, 1)
    assert.deepEqual(changes, ['pause "all" by test'])
  })

  it('waitIdle waits for a batch in flight, names it when time runs out, resolves once it is done', async t => {
    const { board } = newBoard(t)
    const inFlight = new Set<number>([1])
    const activity = (): MemberActivity => ({ owned: [0, 1], inFlight, sweeping: false })
    const registry = new Registry()
    const metrics = consumerMetrics(registry)
    const member = board.follow({ activity, onPoll: () => {}, logger, gauge: metrics.paused, everyMs: 50 })
    assert.equal(member.fresh(), false, 'no batch starts before the first read')
    member.start()
    t.after(() => member.close())
    await board.pause([1], 'test', 'wait for me')
    const timeout = await board.waitIdle(400).then(
      () => undefined,
      (error: unknown) => error,
    )
    assert.ok(timeout instanceof PauseWaitTimeout, String(timeout))
    assert.match(timeout.message, new RegExp(`${member.member}: batches of partitions 1 in flight`))
    assert.equal(member.fresh(), true)
    assert.equal(member.paused(1), true)
    assert.equal(member.paused(0), false)

    setTimeout(() => inFlight.clear(), 200)
    const idle = await board.waitIdle(5000)
    assert.deepEqual(
      idle.members.map(m => [m.member, m.paused, m.busy]),
      [[member.member, [1], []]],
    )
    const gauge = await metrics.paused.get()
    assert.deepEqual(
      gauge.values.map(v => [v.labels.partition, v.value]),
      [['1', 1]],
    )

    // A member that leaves withdraws its report: nobody waits for it.
    await member.close()
    assert.deepEqual((await board.state()).members, [])
  })

  it('a member that cannot read the record pauses everything', async t => {
    const { board, redis, keys } = newBoard(t)
    await redis.hset(keys.record, 'revision', '1', 'record', '{"revision":1,"all":"garbage"')
    const member = board.follow({
      activity: () => ({ owned: [0], inFlight: new Set(), sweeping: false }),
      onPoll: () => {},
      logger,
    })
    await member.poll()
    assert.equal(member.paused(0), true)
    assert.equal(member.paused(7), true)
    assert.equal(member.holdsSweep(), true)
    // An operator's resume writes a clean record over it.
    await board.resume('all', 'test')
    await member.poll()
    assert.equal(member.paused(0), false)
  })
})
