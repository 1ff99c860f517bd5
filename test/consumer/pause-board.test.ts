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
import { createRedisClient } from '../../src/redis/client.ts'
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
    await member.start()
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

  it('a record that does not parse pauses everything', async t => {
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
    assert.equal((await board.state()).record.revision, 2, "counted on from the hash's revision")
    await member.poll()
    assert.equal(member.paused(0), false)
  })

  it('a member that cannot read the record starts nothing, and says why', async t => {
    const { board: reachable } = newBoard(t)
    await reachable.pause([0], 'test')
    // Nothing listens on port 1: every poll fails at once.
    const redis = createRedisClient({ addr: '127.0.0.1:1', commandTimeoutMs: 200 })
    t.after(() => redis.disconnect())
    const cut = new PauseBoard({
      redis,
      addr: '127.0.0.1:1',
      groupId: reachable.groupId,
      topic: reachable.topic,
      partitionCount: async () => 4,
    })
    const member = cut.follow({
      activity: () => ({ owned: [0, 1], inFlight: new Set(), sweeping: false }),
      onPoll: () => {},
      logger,
    })
    await member.poll()
    assert.equal(member.fresh(), false)
    assert.match(
      member.problem() ?? '',
      /^the pause record has not been read yet \(.+\): no batch starts until it is read$/,
    )
    assert.equal(member.holdsSweep(), true)
    // Read once, it is fresh for half a report's lifetime, then no longer.
    const live = reachable.follow({
      activity: () => ({ owned: [0, 1], inFlight: new Set(), sweeping: false }),
      onPoll: () => {},
      logger,
    })
    await live.poll()
    assert.equal(live.fresh(), true)
    assert.equal(live.problem(), undefined)
    assert.equal(live.fresh(Date.now() + 5_001), false)
    assert.match(live.problem(Date.now() + 6_000) ?? '', /was last polled 6 s ago/)
    await live.close()
  })

  it('a member that loses Redis keeps the record it read and goes on; its silence holds idleness back', async t => {
    const { board, redis: shared, keys } = newBoard(t)
    const own = createRedisClient({
      addr: testServices.redisAddr,
      password: testServices.redisPassword,
      commandTimeoutMs: 300,
    })
    t.after(() => own.disconnect())
    const its = new PauseBoard({
      redis: own,
      addr: testServices.redisAddr,
      groupId: board.groupId,
      topic: board.topic,
      partitionCount: async () => 4,
    })
    const member = its.follow({
      activity: () => ({ owned: [0, 1], inFlight: new Set(), sweeping: false }),
      onPoll: () => {},
      logger,
      member: 'cut-off',
    })
    await board.pause([0], 'test')
    await member.poll()
    own.disconnect()
    await member.poll()
    assert.equal(member.fresh(), true, 'a failed read is no stall: the member goes on')
    assert.equal(member.paused(0), true, 'with the record it read last')
    assert.equal(member.paused(1), false)

    // Its report stops being fresh (written here as Redis would hold it 11 s later): the group is not idle
    // while no live member owns partition 0, whatever the member does meanwhile.
    const stored = (await shared.hget(keys.members, 'cut-off')) ?? ''
    const clock = await shared.time()
    const redisNow = Number(clock[0]) * 1000 + Math.floor(Number(clock[1]) / 1000)
    await shared.hset(keys.members, 'cut-off', `${redisNow - 1000}|${stored.slice(stored.indexOf('|') + 1)}`)
    const silent = await board.state()
    assert.deepEqual(silent.members, [])
    assert.deepEqual(
      silent.silent.map(s => s.report.member),
      ['cut-off'],
    )
    await assert.rejects(board.waitIdle(300), /cut-off: silent for 1 s, and no live member owns its partitions 0/)

    // Another member reports partition 0 (the group moved it): idle.
    const other = board.follow({
      activity: () => ({ owned: [0, 2], inFlight: new Set(), sweeping: false }),
      onPoll: () => {},
      logger,
    })
    await other.poll()
    await other.poll()
    assert.equal((await board.waitIdle(1000)).idle, true)
  })
})
