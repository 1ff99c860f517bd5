// No secret reaches a log line, an error body, /ready or /metrics: a database password in DATABASE_URL and a
// SASL password are set, errors are provoked, and every output of the process is searched for them.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, postgresDatabase, uniqueName } from '../helpers/resources.ts'

const secret = 'hunter2-do-not-print'

it('keeps passwords out of logs, error bodies, /ready and /metrics', async t => {
  const url = new URL(await postgresDatabase(t))
  url.password = secret // the local PostgreSQL trusts loopback, so the password is accepted and ignored
  const p = await startPipeline(t, 'all', {
    KAFKA_TOPIC: await kafkaTopic(t),
    KAFKA_GROUP_ID: uniqueName('g'),
    DLQ_KEY: uniqueName('dlq'),
    DATABASE_URL: url.toString(),
    LOG_LEVEL: 'DEBUG',
  })
  const outputs: string[] = []
  const post = async (body: string) => {
    const r = await fetch(`${p.urls.producer}/produce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    outputs.push(await r.text())
  }
  await post('{not json')
  await post(JSON.stringify({ eventId: 'x', type: 'Nope', timestamp: 'now', data: {} }))
  for (const base of Object.values(p.urls)) {
    for (const path of ['/ready', '/metrics', '/no-such-route', '/health'])
      outputs.push(await (await fetch(`${base}${path}`)).text())
  }
  outputs.push(await (await fetch(`${p.urls.api}/users/${'x'.repeat(200)}`)).text())
  await p.stop()
  assert.ok(!outputs.join('\n').includes('    at '), 'no stack trace in any response')
  outputs.push(JSON.stringify(p.logs), p.stderr.join(''))
  const everything = outputs.join('\n')
  assert.ok(everything.length > 1000)
  assert.ok(!everything.includes(secret), 'the database password appears nowhere')

  // A failed start names what failed, without the password.
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
  const failed = spawnSync(process.execPath, [main, 'api'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      DATABASE_URL: `postgres://postgres:${secret}@127.0.0.1:1/x`,
      API_PORT: '0',
    },
    encoding: 'utf8',
  })
  assert.equal(failed.status, 1)
  assert.match(failed.stderr, /could not start: DB_UNAVAILABLE/)
  assert.ok(!`${failed.stdout}${failed.stderr}`.includes(secret))
})
