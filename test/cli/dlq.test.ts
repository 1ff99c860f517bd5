// `pipeline dlq …` as operators run it (a child process), against a running consumer and the real Kafka, Redis
// and PostgreSQL: find a dead letter, fix it, redrive it, see it applied; dry runs that change nothing; and a
// redrive of 1,000 entries killed half-way and resumed, each entry sent and applied exactly once.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import pg from 'pg'
import { createRedisDlq, type DeadLetter, encodePayload } from '../../src/dlq/index.ts'
import { auditKeyOf } from '../../src/dlq-ops/index.ts'
import { endOffsets } from '../../src/kafka/index.ts'
import { cliEnv, startCli } from '../helpers/cli.ts'
import { userCreated } from '../helpers/events.ts'
import { eventually, produceRaw, readTopic } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { checkCopies } from '../helpers/redrive-copies.ts'
import { type Cleanup, kafkaTopic, postgresDatabase, redisPrefix, uniqueName } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const kafka = { clientId: 'test-dlq-cli', bootstrapBrokers: [...testServices.kafkaBrokers] }

interface Cli {
  readonly env: Record<string, string>
  run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>
  start(args: string[]): {
    kill(): Promise<void>
    done: Promise<{ code: number | null; stdout: string; stderr: string }>
  }
}

function cli(t: Cleanup, env: Record<string, string>): Cli {
  const base = cliEnv(env)
  const start = (args: string[]) => startCli(t, ['dlq', ...args], base)
  return { env: base, start, run: args => start(args).done }
}

function tempFile(t: Cleanup, name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dlq-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

async function postgres(t: Cleanup, url: string) {
  const client = new pg.Client({ connectionString: url })
  // The database is dropped (its sessions ended) by its own cleanup, which may come first.
  client.on('error', () => {})
  await client.connect()
  t.after(() => client.end())
  return client
}

describe('pipeline dlq', () => {
  it('finds a record dead-lettered for a missing field, fixes it with --payload, redrives it; it is applied', async t => {
    const topic = await kafkaTopic(t, 3)
    const database = await postgresDatabase(t)
    const { prefix, redis } = redisPrefix(t)
    const key = `${prefix}dlq`
    const env = { KAFKA_TOPIC: topic, KAFKA_GROUP_ID: uniqueName('group'), DATABASE_URL: database, DLQ_KEY: key }
    await startPipeline(t, 'consumer', env)
    const run = cli(t, env)

    const event = userCreated('u-fix-1')
    const { email: _, ...withoutEmail } = event.data
    await produceRaw(topic, [{ key: 'u-fix-1', value: JSON.stringify({ ...event, data: withoutEmail }) }])
    await eventually('the record is dead-lettered', async () => (await redis.llen(key)) === 1)

    const listed = await run.run(['list', '--code', 'SCHEMA_VIOLATION', '--json'])
    assert.equal(listed.code, 0, listed.stderr)
    const [found] = JSON.parse(listed.stdout).entries as DeadLetter[]
    assert.equal(found?.eventId, event.eventId)
    assert.match(found?.error.message ?? '', /email/)
    const human = await run.run(['list', '--code', 'SCHEMA_VIOLATION'])
    assert.match(human.stdout, new RegExp(`SCHEMA_VIOLATION\\s+UserCreated\\s+${event.eventId}`))

    // A fix that is still wrong is refused with the reason, and nothing is sent.
    const still = await run.run([
      'redrive',
      '--event-id',
      event.eventId,
      '--payload',
      tempFile(t, 'bad.json', '{"x":1}'),
    ])
    assert.equal(still.code, 2)
    assert.match(still.stderr, /not a valid event, nothing was sent/)
    assert.equal(await redis.llen(key), 1)

    const fixed = await run.run([
      'redrive',
      '--event-id',
      event.eventId,
      '--payload',
      tempFile(t, 'fixed.json', JSON.stringify(event)),
    ])
    assert.equal(fixed.code, 0, fixed.stderr)
    const sql = await postgres(t, database)
    await eventually('the fixed event is applied', async () => {
      const { rows } = await sql.query('SELECT email FROM users WHERE user_id = $1', ['u-fix-1'])
      return rows[0]?.email === event.data.email
    })
    assert.equal(await redis.llen(key), 0)
    const audit = await run.run(['audit', '--json'])
    const actions = (JSON.parse(audit.stdout).entries as { action: string; fixed?: boolean; eventIds: string[] }[]).map(
      a => [a.action, a.fixed ?? false, a.eventIds],
    )
    assert.deepEqual(actions, [
      ['redrive-finish', false, [event.eventId]],
      ['redrive', true, [event.eventId]],
    ])
    assert.match((await run.run(['audit'])).stdout, /redrive-finish/)
  })

  it('a filtered dry run changes nothing; purge without --yes neither; with --yes it removes', async t => {
    const topic = await kafkaTopic(t, 2)
    const { prefix, redis } = redisPrefix(t)
    const key = `${prefix}dlq`
    const run = cli(t, { KAFKA_TOPIC: topic, DLQ_KEY: key })
    const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
    t.after(() => dlq.close())
    const letters = Array.from({ length: 6 }, (_, n) =>
      deadLetter(topic, n, n % 2 === 0 ? 'SCHEMA_VIOLATION' : 'INVALID_JSON'),
    )
    await dlq.push(letters)
    const before = { list: await redis.lrange(key, 0, -1), ends: await endOffsets(kafka, topic, 5000) }
    const dry = await run.run(['redrive', '--dry-run', '--code', 'INVALID_JSON', '--json'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual(
      JSON.parse(dry.stdout).entries.map((l: DeadLetter) => l.eventId),
      letters.filter((_, n) => n % 2 === 1).map(l => l.eventId),
    )
    const purgeDry = await run.run(['purge', '--code', 'INVALID_JSON'])
    assert.equal(purgeDry.code, 0)
    assert.match(purgeDry.stdout, /would remove 3 entries \(dry run/)
    assert.deepEqual(await redis.lrange(key, 0, -1), before.list)
    assert.deepEqual(await endOffsets(kafka, topic, 5000), before.ends)
    assert.equal(await redis.llen(auditKeyOf(key)), 0)

    const purged = await run.run(['purge', '--code', 'INVALID_JSON', '--yes', '--json'])
    assert.equal(JSON.parse(purged.stdout).count, 3)
    const left = (await redis.lrange(key, 0, -1)).map(e => (JSON.parse(e) as DeadLetter).error.code)
    assert.deepEqual(left, ['SCHEMA_VIOLATION', 'SCHEMA_VIOLATION', 'SCHEMA_VIOLATION'])
    const stats = JSON.parse((await run.run(['stats', '--json'])).stdout)
    assert.deepEqual(stats.byCode, { SCHEMA_VIOLATION: 3 })
    const [audited] = JSON.parse((await run.run(['audit', '--json'])).stdout).entries
    assert.deepEqual([audited.action, audited.count, audited.filter], ['purge', 3, { code: 'INVALID_JSON' }])

    assert.equal((await run.run(['list', '--limit', '0'])).code, 2)
    assert.equal((await run.run(['frobnicate'])).code, 2)
    const help = await run.run(['redrive', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /--resume \[ID\]/)
  })

  it('a redrive of 1,000 entries killed half-way and resumed sends and applies each exactly once', async t => {
    const topic = await kafkaTopic(t, 3)
    const database = await postgresDatabase(t)
    const { prefix, redis } = redisPrefix(t)
    const key = `${prefix}dlq`
    const env = { KAFKA_TOPIC: topic, KAFKA_GROUP_ID: uniqueName('group'), DATABASE_URL: database, DLQ_KEY: key }
    await startPipeline(t, 'consumer', env)
    const run = cli(t, env)
    const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
    t.after(() => dlq.close())
    const letters = Array.from({ length: 1000 }, (_, n) => {
      const event = userCreated(`u-bulk-${n}`)
      return {
        ...deadLetter(topic, n, 'DB_UNAVAILABLE'),
        eventId: event.eventId,
        key: event.data.userId,
        ...encodePayload(Buffer.from(JSON.stringify(event))),
      }
    })
    await dlq.push(letters)

    const first = run.start(['redrive', '--rate', '250'])
    await eventually('about half is sent', async () => (await redis.llen(key)) <= 550, 30_000)
    await first.kill()
    const afterKill = await redis.llen(key)
    assert.ok(afterKill > 0 && afterKill < 1000, `${afterKill} entries left when the redrive was killed`)

    const resumed = await run.run(['redrive', '--resume'])
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stdout, /done, 1000 of 1000 sent/)

    const check = checkCopies(
      await readTopic(topic),
      letters.map(l => l.eventId as string),
    )
    assert.deepEqual([check.duplicates, check.missing, check.unexpected], [[], [], []])
    assert.equal(check.copies.size, 1000)
    const sql = await postgres(t, database)
    await eventually(
      'every entry is applied',
      async () => {
        const { rows } = await sql.query("SELECT count(*)::int AS n FROM users WHERE user_id LIKE 'u-bulk-%'")
        return rows[0]?.n === 1000
      },
      60_000,
    )
    assert.equal(await redis.llen(key), 0)
    const audit = JSON.parse((await run.run(['audit', '--json'])).stdout).entries as {
      action: string
      redriveId: string
      count: number
    }[]
    const ids = new Set(audit.map(a => a.redriveId))
    assert.equal(ids.size, 1, 'one redrive, run twice')
    assert.deepEqual(
      audit.map(a => a.action),
      ['redrive-finish', 'redrive-resume', 'redrive'],
    )
    assert.equal(audit[2]?.count, 1000)
    // The resumed run took over what the DLQ still held, plus any entry removed whose state was not saved yet.
    const resumedCount = audit[1]?.count ?? 0
    assert.ok(resumedCount >= afterKill && resumedCount < 1000, `resumed ${resumedCount}, left ${afterKill}`)
    t.diagnostic(`killed with ${afterKill} entries in the DLQ; the resumed run took over ${resumedCount}`)
    assert.equal(audit[0]?.count, 1000)
  })
})

function deadLetter(topic: string, n: number, code: DeadLetter['error']['code']): DeadLetter {
  return {
    eventId: `e-${n}`,
    topic,
    partition: n % 2,
    offset: String(10_000 + n),
    key: `k-${n}`,
    ...encodePayload(Buffer.from(code === 'INVALID_JSON' ? '{not json' : JSON.stringify(userCreated(`u-${n}`)))),
    error: { code, message: 'test' },
    attempts: 1,
    failedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    source: 'consumer',
  }
}
