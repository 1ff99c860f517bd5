// Start-up failures as a person meets them: the real command, a dependency missing, and one line on stderr that
// names it, its address and the next step, with no stack trace and no secret, within a bounded time.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { pipelineVersion } from '../../src/version.ts'
import { freePort, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresLoginWithoutCreatedb, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const secret = 'hunter2-startup-secret'

interface Exit {
  code: number | null
  stderr: string
  ms: number
}

/** Runs `pipeline <command>` to its exit (killed after `limitMs`), with only the variables given. */
async function runToExit(command: string, env: Record<string, string>, limitMs = 30_000): Promise<Exit> {
  const started = Date.now()
  const child = spawn(process.execPath, [main, command], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      KAFKA_AUTOSTART: 'false',
      LOG_LEVEL: 'INFO',
      REDIS_ADDR: testServices.redisAddr,
      REDIS_PASSWORD: testServices.redisPassword,
      PRODUCER_PORT: String(await freePort()),
      CONSUMER_PORT: String(await freePort()),
      API_PORT: String(await freePort()),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(killer)
  return { code, stderr, ms: Date.now() - started }
}

/** The failure is exactly one line, without a stack trace or the secret. */
function assertOneLine(exit: Exit): string {
  assert.equal(exit.code, 1, exit.stderr)
  const lines = exit.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, exit.stderr)
  assert.ok(!exit.stderr.includes('    at '), 'no stack trace')
  assert.ok(!exit.stderr.includes(secret), 'no secret')
  return lines[0] as string
}

describe('start-up failures', () => {
  it('Kafka not answering stops the consumer in seconds with KAFKA_UNAVAILABLE and the next step', async t => {
    const port = await freePort()
    for (const command of ['consumer', 'all']) {
      const exit = await runToExit(command, {
        KAFKA_BROKERS: `127.0.0.1:${port}`,
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SASL_USERNAME: 'pipeline',
        KAFKA_SASL_PASSWORD: secret,
        DATABASE_URL: `sqlite:${sqliteFile(t)}`,
      })
      assert.equal(
        assertOneLine(exit),
        `pipeline: could not start: KAFKA_UNAVAILABLE: Kafka (127.0.0.1:${port}) does not answer; ` +
          'start one with `npm run kafka:start` or set KAFKA_BROKERS',
      )
      assert.ok(exit.ms < 15_000, `${command} exited after ${exit.ms} ms`)
    }
  })

  it('PostgreSQL not answering is DB_UNAVAILABLE naming host:port and the database, never the password', async () => {
    const port = await freePort()
    const exit = await runToExit('api', { DATABASE_URL: `postgres://postgres:${secret}@127.0.0.1:${port}/events` })
    assert.equal(
      assertOneLine(exit),
      `pipeline: could not start: DB_UNAVAILABLE: PostgreSQL (127.0.0.1:${port}, database events) does not ` +
        'answer (ECONNREFUSED); start it or set DATABASE_URL',
    )
    assert.ok(exit.ms < 15_000, `exited after ${exit.ms} ms`)
  })

  it('shows the stack, still without the password, only at LOG_LEVEL=DEBUG', async () => {
    const port = await freePort()
    const exit = await runToExit('migrate', {
      DATABASE_URL: `postgres://postgres:${secret}@127.0.0.1:${port}/events`,
      LOG_LEVEL: 'DEBUG',
    })
    assert.equal(exit.code, 1)
    assert.match(
      exit.stderr,
      /^pipeline: could not start: DB_UNAVAILABLE: PostgreSQL \(127\.0\.0\.1:\d+, database events\)/,
    )
    assert.ok(exit.stderr.includes('    at '), exit.stderr)
    assert.ok(!exit.stderr.includes(secret))
  })

  it('a missing database the login may not create is DB_NOT_FOUND with what to run', async t => {
    const { role, absentDatabase: name } = await postgresLoginWithoutCreatedb(t, secret)
    const url = new URL(testServices.postgresAdminUrl)
    url.username = role
    url.password = secret
    url.pathname = `/${name}`
    const exit = await runToExit('api', { DATABASE_URL: url.toString() })
    assert.equal(
      assertOneLine(exit),
      `pipeline: could not start: DB_NOT_FOUND: PostgreSQL (${url.hostname}:${url.port || 5432}, database ${name}): ` +
        `database "${name}" does not exist and this login may not create databases; create it (createdb ${name}) ` +
        'or grant CREATEDB to the login',
    )
    assert.ok(exit.ms < 15_000, `exited after ${exit.ms} ms`)
  })

  it('a port in use is PORT_IN_USE naming the port, its variable and what to do', async t => {
    const holder = createServer().listen(0, '127.0.0.1')
    await once(holder, 'listening')
    t.after(() => holder.close())
    const { port } = holder.address() as { port: number }
    const exit = await runToExit('api', { API_PORT: String(port), DATABASE_URL: `sqlite:${sqliteFile(t)}` })
    assert.equal(
      assertOneLine(exit),
      `pipeline: could not start: PORT_IN_USE: port ${port} (API_PORT) is in use; stop the other process or set API_PORT`,
    )
    const alone = await runToExit('api', { SERVICE_PORT: String(port), DATABASE_URL: `sqlite:${sqliteFile(t)}` })
    assert.match(assertOneLine(alone), /PORT_IN_USE: port \d+ \(SERVICE_PORT\) is in use; .* set SERVICE_PORT$/)
  })
})

describe('Redis unreachable at start', () => {
  it('the consumer starts, warns in one line, and its /health tells', async t => {
    const redisPort = await freePort()
    const topic = await kafkaTopic(t)
    const running = await startPipeline(t, 'consumer', {
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `group-${topic}`,
      REDIS_ADDR: `127.0.0.1:${redisPort}`,
      REDIS_PASSWORD: secret,
      ADMIN_TOKEN: 'admin-token-0123456789',
      DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    })
    const stderr = running.stderr.join('')
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr)
    assert.match(
      stderr,
      new RegExp(
        `^pipeline: warning: DLQ_UNAVAILABLE: Redis \\(127\\.0\\.0\\.1:${redisPort}\\) does not answer \\([^)]+\\), ` +
          "so the dead-letter queue is off: the consumer applies nothing until Redis answers \\(it reads the group's " +
          'pause record first\\), and records that cannot be applied hold their partition until then; ' +
          'start Redis or set REDIS_ADDR\\n$',
      ),
    )
    assert.ok(!stderr.includes(secret))
    // Liveness stays 200 while the process lives; the address is for the admin token only, as on /ready.
    const health = await fetch(`${running.urls.consumer}/health`)
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { status: 'ok', version: pipelineVersion(), dlq: 'unreachable' })
    const detailed = await fetch(`${running.urls.consumer}/health`, {
      headers: { authorization: 'Bearer admin-token-0123456789' },
    })
    assert.deepEqual(await detailed.json(), {
      status: 'ok',
      version: pipelineVersion(),
      dlq: `unreachable (Redis 127.0.0.1:${redisPort})`,
    })
    assert.equal((await running.stop()).code, 0)
  })

  it('the producer starts and warns that refused requests are not dead-lettered', async t => {
    const redisPort = await freePort()
    const running = await startPipeline(t, 'producer', {
      KAFKA_TOPIC: await kafkaTopic(t),
      REDIS_ADDR: `127.0.0.1:${redisPort}`,
    })
    const stderr = running.stderr.join('')
    assert.match(
      stderr,
      new RegExp(
        `^pipeline: warning: DLQ_UNAVAILABLE: Redis \\(127\\.0\\.0\\.1:${redisPort}\\) does not answer .*: ` +
          'refused requests are not dead-lettered; start Redis or set REDIS_ADDR\\n$',
      ),
    )
    assert.equal((await running.stop()).code, 0)
  })

  it('the read API starts, serves, and warns that event status cannot show dead letters', async t => {
    const redisPort = await freePort()
    const running = await startPipeline(t, 'api', {
      KAFKA_TOPIC: await kafkaTopic(t),
      REDIS_ADDR: `127.0.0.1:${redisPort}`,
      DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    })
    const stderr = running.stderr.join('')
    assert.match(
      stderr,
      new RegExp(
        `^pipeline: warning: DLQ_UNAVAILABLE: Redis \\(127\\.0\\.0\\.1:${redisPort}\\) does not answer .*: ` +
          'GET /events/\\{eventId\\} answers 503 DLQ_UNAVAILABLE for an eventId the store does not know; ' +
          'start Redis or set REDIS_ADDR\\n$',
      ),
    )
    assert.equal((await fetch(`${running.urls.api}/users/nobody`)).status, 404, 'stored rows are still served')
    assert.equal((await running.stop()).code, 0)
  })

  it('with Redis answering, the consumer /health says the DLQ is ok and nothing is warned', async t => {
    const topic = await kafkaTopic(t)
    const running = await startPipeline(t, 'consumer', {
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: `group-${topic}`,
      DATABASE_URL: `sqlite:${sqliteFile(t)}`,
    })
    assert.deepEqual(await (await fetch(`${running.urls.consumer}/health`)).json(), {
      status: 'ok',
      version: pipelineVersion(),
      dlq: 'ok',
    })
    assert.equal(running.stderr.join(''), '')
    assert.equal((await running.stop()).code, 0)
  })
})
