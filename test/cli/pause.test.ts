// `pipeline pause|resume|paused` as operators run them (a child process), against a live consumer member and the
// real Kafka and Redis: pause one partition and wait for the member's acknowledgement, show it, resume; bad
// input refused with exit code 2 and nothing changed; every accepted request audited. The argument reading and
// the text for people are unit-tested first.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parsePauseArgs, pauseStateText } from '../../src/cli/pause.ts'
import type { PauseState } from '../../src/consumer/index.ts'
import { readAudit } from '../../src/dlq-ops/audit.ts'
import { createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { cliEnv, startCli } from '../helpers/cli.ts'
import { eventually } from '../helpers/kafka.ts'
import { type Cleanup, dropPauseKeys, kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'

function run(t: Cleanup, env: Record<string, string>, args: string[]) {
  return startCli(t, args, cliEnv(env)).done
}

describe('pipeline pause: arguments and text', () => {
  it('reads the scope, the reason and the wait; status is `paused` or `pause status`', () => {
    assert.deepEqual(parsePauseArgs('pause', ['--partition', '2', '--partition', '0', '--reason', 'why', '--wait']), {
      verb: 'pause',
      scope: [2, 0],
      reason: 'why',
      wait: true,
      timeoutMs: 30_000,
      json: false,
    })
    assert.equal(parsePauseArgs('pause', []).scope, 'all')
    assert.equal(parsePauseArgs('resume', ['--partition', '1']).verb, 'resume')
    assert.equal(parsePauseArgs('paused', ['--json']).verb, 'status')
    assert.equal(parsePauseArgs('pause', ['status']).verb, 'status')
    assert.equal(parsePauseArgs('pause', ['--wait', '--timeout', '5']).timeoutMs, 5000)
  })

  it('refuses what it cannot mean', () => {
    for (const [name, args, message] of [
      ['pause', ['--partition', 'x'], /"x" is not a partition number/],
      ['pause', ['--partition', '-1'], /not a partition number|argument/],
      ['pause', ['--bogus'], /Unknown option/],
      ['pause', ['now'], /unexpected argument "now"/],
      ['resume', ['--reason', 'x'], /resume takes --partition and --json only/],
      ['paused', ['--partition', '1'], /status takes --json only/],
      ['pause', ['--wait', '--timeout', '0'], /--timeout/],
    ] as const) {
      assert.throws(() => parsePauseArgs(name, args), message, `${name} ${args.join(' ')}`)
    }
  })

  it('writes what is paused and what each member acknowledged', () => {
    const state: PauseState = {
      record: {
        revision: 3,
        all: null,
        partitions: { '2': { by: 'cli alice', at: '2026-01-01T00:00:00.000Z', reason: 'reindex' } },
      },
      members: [
        {
          member: 'host:1:abc',
          revision: 3,
          owned: [0, 1, 2],
          paused: [2],
          busy: [2],
          sweeping: false,
          at: '2026-01-01T00:00:01.000Z',
        },
      ],
      silent: [],
      idle: false,
      waitingFor: ['host:1:abc: batches of partitions 2 in flight'],
    }
    const text = pauseStateText(state, 'g', 't')
    assert.match(text, /consumer group g, topic t \(revision 3\)/)
    assert.match(text, /2\s+cli alice\s+2026-01-01T00:00:00.000Z\s+reindex/)
    assert.match(text, /host:1:abc\s+0,1,2\s+2\s+2\s+3/)
    assert.match(text, /not idle yet: host:1:abc: batches of partitions 2 in flight/)
    const none = pauseStateText(
      { record: { revision: 4, all: null, partitions: {} }, members: [], silent: [], idle: true, waitingFor: [] },
      'g',
      't',
    )
    assert.match(none, /nothing paused/)
    assert.match(none, /no live member reports/)
  })
})

describe('pipeline pause: against a live consumer', () => {
  it('pauses a partition and waits for the member, shows it, resumes; refuses bad input; audits', async t => {
    const topic = await kafkaTopic(t, 3)
    const { prefix, redis } = redisPrefix(t)
    const dlqKey = `${prefix}dlq:events`
    const groupId = uniqueName('group')
    dropPauseKeys(t, groupId, topic)
    const store = await createStore({ engine: 'sqlite', path: sqliteFile(t as Cleanup) })
    t.after(() => store.close())
    const consumer = await startConsumer(t, { topic, store, dlqKey, groupId })
    const env = { KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, DLQ_KEY: dlqKey }
    await eventually('the member owns every partition', () => consumer.service.status().partitions?.length === 3)

    const paused = await run(t, env, ['pause', '--partition', '1', '--reason', 'cli test', '--wait', '--json'])
    assert.equal(paused.code, 0, paused.stderr)
    const state = JSON.parse(paused.stdout)
    assert.equal(state.idle, true)
    assert.deepEqual(
      state.partitions.map((p: { partition: number; reason: string }) => [p.partition, p.reason]),
      [[1, 'cli test']],
    )
    assert.equal(state.members.length, 1)
    assert.deepEqual(state.members[0].owned, [0, 1, 2])
    assert.deepEqual(state.members[0].paused, [1])
    assert.match(state.partitions[0].by, /^cli /)
    assert.deepEqual(consumer.service.status().paused, [1])

    const shown = await run(t, env, ['paused'])
    assert.equal(shown.code, 0, shown.stderr)
    assert.match(shown.stdout, /1\s+cli \S+\s+\S+\s+cli test/)
    assert.match(shown.stdout, /idle: every live member has stopped what is paused/)

    // Refused, nothing changed: a partition the topic does not have, a reason too long, part of a pause of all.
    const outside = await run(t, env, ['pause', '--partition', '3'])
    assert.equal(outside.code, 2)
    assert.match(outside.stderr, /partition 3 is not a partition of the topic \(it has 3: 0 to 2\)/)
    const long = await run(t, env, ['pause', '--reason', 'x'.repeat(201)])
    assert.equal(long.code, 2)
    assert.match(long.stderr, /at most 200/)
    const bad = await run(t, env, ['resume', '--partition', 'one'])
    assert.equal(bad.code, 2)

    const resumed = await run(t, env, ['resume', '--partition', '1'])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stdout, /nothing paused/)
    await assert.rejects(consumer.role.pause.waitIdle(100), /nothing is paused/)

    const audit = await readAudit(redis, dlqKey, 10)
    assert.deepEqual(
      audit.map(a => [a.action, a.partitions, a.reason]),
      [
        ['consumer-resume', [1], undefined],
        ['consumer-pause', [1], 'cli test'],
      ],
    )
  })
})
