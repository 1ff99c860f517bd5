// `pipeline rebuild …` against the real Kafka, Redis and SQLite: the commands in process (with the test's
// generations over real SQLite files) through a whole rebuild, and the real CLI as a child process for what needs
// no generations: status, usage errors and the retention refusal, with their exit codes.
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import { Admin } from '@platformatic/kafka'
import { parseFrom, runRebuild } from '../../src/cli/rebuild.ts'
import { loadConfig } from '../../src/config/index.ts'
import { readAudit } from '../../src/dlq-ops/audit.ts'
import { createOffsetsReader } from '../../src/kafka/index.ts'
import { createGenerations, createStore } from '../../src/store/index.ts'
import { startConsumer } from '../consumer/harness.ts'
import { cliEnv, startCli } from '../helpers/cli.ts'
import { keyOfTest, orderPlaced, type TestEvent, userCreated } from '../helpers/events.ts'
import { eventually, produceRaw } from '../helpers/kafka.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'
import { noPending } from './settled.ts'

const records = (events: TestEvent[]) => events.map(e => ({ key: keyOfTest(e), value: JSON.stringify(e) }))

function history(from: number, users: number): TestEvent[] {
  return Array.from({ length: users }, (_, i) => [
    userCreated(`u${from + i}`),
    orderPlaced(`o${from + i}`, `u${from + i}`, { total: i }),
  ]).flat()
}

/** A stream that keeps what is written, as a pipe does (not a terminal). */
function output() {
  let text = ''
  const stream = {
    isTTY: false,
    write(chunk: string | Uint8Array) {
      text += chunk.toString()
      return true
    },
  }
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => text }
}

async function env(t: Cleanup) {
  const topic = await kafkaTopic(t, 3)
  const path = sqliteFile(t)
  const { redis, prefix } = redisPrefix(t)
  const vars = {
    KAFKA_TOPIC: topic,
    KAFKA_GROUP_ID: `group-${topic}`,
    KAFKA_PARTITIONS: '3',
    SQLITE_PATH: path,
    DLQ_KEY: `${prefix}dlq`,
  }
  const config = loadConfig({
    KAFKA_BROKERS: testServices.kafkaBrokers.join(','),
    REDIS_ADDR: testServices.redisAddr,
    REDIS_PASSWORD: testServices.redisPassword,
    CONSUMER_BATCH_WAIT_MS: '20',
    ...vars,
  })
  return { topic, path, redis, config, vars }
}

function cli(t: Cleanup, vars: Record<string, string>) {
  const start = (args: string[]) => startCli(t, ['rebuild', ...args], cliEnv(vars))
  const run = (args: string[]) => start(args).done
  return Object.assign(run, { start })
}

describe('pipeline rebuild', () => {
  it('parses --from as ISO-8601 or epoch ms, and refuses anything else or the future', () => {
    const now = Date.parse('2025-06-01T00:00:00Z')
    assert.equal(parseFrom('2025-01-11T12:00:00Z', now), Date.parse('2025-01-11T12:00:00Z'))
    assert.equal(parseFrom('1736596800000', now), 1736596800000)
    assert.throws(() => parseFrom('yesterday', now), /is not a time/)
    assert.throws(() => parseFrom('2025-13-45', now), /is not a time/)
    assert.throws(() => parseFrom('2026-01-01T00:00:00Z', now), /in the future/)
  })

  it('runs a whole rebuild: start (foreground), status, verify, swap, drop-old', async t => {
    const { topic, path, redis, config } = await env(t)
    const live = await createStore(config.database)
    t.after(() => live.close())
    await startConsumer(t, { topic, store: live, dlqKey: config.dlqKey, groupId: config.kafkaGroupId })
    await produceRaw(topic, records(history(0, 100)))
    const offsets = createOffsetsReader(
      { clientId: 'test', bootstrapBrokers: [...testServices.kafkaBrokers] },
      { timeoutMs: 5000 },
    )
    t.after(() => offsets.close())
    await eventually('the live consumer to drain', async () => {
      const [marks, ends] = await Promise.all([live.appliedOffsets(topic), offsets.ends(topic)])
      return [...ends].every(([p, end]) => end === 0n || (marks.get(p) ?? -1n) >= end - 1n)
    })
    const run = async (args: string[], signal?: AbortSignal) => {
      const out = output()
      const err = output()
      const code = await runRebuild(args, config, {
        stdout: out.stream,
        stderr: err.stream,
        who: 'tester',
        progressEveryMs: 100,
        ...(signal ? { signal } : {}),
      })
      return { code, stdout: out.text(), stderr: err.text() }
    }

    assert.match((await run(['status'])).stdout, /no rebuild of this store/)
    const stop = new AbortController()
    const foreground = run(['start'], stop.signal)
    await eventually('the rebuild to catch up', async () => {
      const { stdout } = await run(['status', '--json'])
      return (JSON.parse(stdout) as { state: string } | null)?.state === 'caught-up'
    })
    const second = await run(['start'])
    assert.equal(second.code, 1)
    assert.match(second.stderr, /rebuild 1 of this store is caught-up: one rebuild at a time/)

    const status = await run(['status'])
    assert.match(status.stdout, /rebuild 1: caught-up \(a process is working on it\)/)
    assert.match(status.stdout, /partition {2}reached/)
    assert.match(status.stdout, /lag 0/)

    await noPending(config.database, 'rebuild_1')
    const same = await run(['verify'])
    assert.equal(same.code, 0, same.stderr)
    assert.match(same.stdout, /the shadow matches the live tables/)
    const db = new DatabaseSync(path)
    db.exec("PRAGMA busy_timeout = 10000; UPDATE users SET email = 'x@y' WHERE user_id = 'u42'")
    db.close()
    const differs = await run(['verify', '--limit', '5'])
    assert.equal(differs.code, 1)
    assert.match(differs.stdout, /users\s+100\s+100\s+differ\s+1/)
    assert.match(differs.stdout, /users u42\n {4}live: {3}.*"email":"x@y"/)
    assert.equal((await run(['verify', '--limit', '0'])).code, 2)

    const swap = await run(['swap'])
    assert.equal(swap.code, 0, swap.stderr)
    assert.match(swap.stdout, /rebuild 1: swapped/)
    const filled = await foreground
    assert.equal(filled.code, 0)
    assert.match(filled.stderr, /rebuild 1: shadow rebuild_1, group group-.*-rebuild-1/)
    assert.match(filled.stderr, /records, lag \d+, .*\/s, ETA/)
    assert.match(filled.stderr, /another command \(swap or abort\) took the rebuild over/)
    assert.equal((await live.getUser('u42'))?.email, 'u42@example.com')

    const dropped = await run(['drop-old', '--json'])
    assert.equal(dropped.code, 0)
    assert.equal((JSON.parse(dropped.stdout) as { state: string }).state, 'done')
    // The swap paused the live group while it swapped, and resumed it.
    assert.deepEqual(
      (await readAudit(redis, config.dlqKey, 10)).map(a => [a.action, a.who]),
      [
        ['rebuild-drop-old', 'tester'],
        ['consumer-resume', 'tester'],
        ['rebuild-swap', 'tester'],
        ['consumer-pause', 'tester'],
        ['rebuild-start', 'tester'],
      ],
    )
  })

  it('answers usage errors with 2, and refuses a log that lost records with 1 (the real CLI)', async t => {
    const { topic, vars } = await env(t)
    const pipeline = cli(t, vars)
    const none = await pipeline(['status'])
    assert.equal(none.code, 0, none.stderr)
    assert.match(none.stdout, /no rebuild of this store/)
    assert.equal((await pipeline(['bogus'])).code, 2)
    const bad = await pipeline(['start', '--from', 'yesterday'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--from: "yesterday" is not a time/)
    assert.equal((await pipeline(['start', '--resume', '--from', '1'])).code, 2)
    const help = await pipeline(['start', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /keeps following the log/)

    const missing = await cli(t, { ...vars, KAFKA_TOPIC: `${topic}-absent` })(['start'])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /pipeline rebuild start: failed: Unknown topic .*-absent/)

    await produceRaw(topic, records(history(0, 30)))
    const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [...testServices.kafkaBrokers] })
    try {
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 2, offset: 1n }] }] })
    } finally {
      await admin.close()
    }
    const refused = await pipeline(['start'])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /records of .* were deleted: partition 2 starts at offset 1 \(retention\.ms=/)
    const resume = await pipeline(['swap'])
    assert.equal(resume.code, 1)
    assert.match(resume.stderr, /there is no rebuild of this store/)
  })

  it('runs start in the foreground until Ctrl-C, resumes it, and stops it when another process aborts', async t => {
    const { topic, vars, config } = await env(t)
    await produceRaw(topic, records(history(0, 40)))
    const pipeline = cli(t, vars)
    const status = async () => JSON.parse((await pipeline(['status', '--json'])).stdout) as { state: string } | null
    const first = pipeline.start(['start'])
    await eventually('the rebuild to catch up', async () => (await status())?.state === 'caught-up', 60_000)
    first.child.kill('SIGINT')
    const stopped = await first.done
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.match(
      stopped.stderr,
      /rebuild 1: stopped, interrupted; continue it with: npm run pipeline -- rebuild start --resume/,
    )
    assert.match(stopped.stderr, /caught-up: 80\/80 records, lag 0/)
    assert.equal((await status())?.state, 'stopped')

    await produceRaw(topic, records(history(40, 10)))
    const resumed = pipeline.start(['start', '--resume'])
    await eventually('the resumed rebuild to catch up', async () => (await status())?.state === 'caught-up', 60_000)
    const shadow = await createGenerations(config.database)
    const store = await shadow.open('rebuild_1')
    try {
      assert.ok(await store.getUser('u49'))
    } finally {
      await store.close()
      await shadow.close()
    }
    const aborted = await pipeline(['abort'])
    assert.equal(aborted.code, 0, aborted.stderr)
    assert.match(aborted.stdout, /rebuild 1: aborted/)
    const ended = await resumed.done
    assert.equal(ended.code, 0, ended.stderr)
    assert.match(ended.stderr, /rebuild 1: (stopped|aborted), another command \(swap or abort\) took the rebuild over/)
  })
})
