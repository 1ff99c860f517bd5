import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { Writable } from 'node:stream'
import { it } from 'node:test'
import { loadConfig } from '../../src/config/index.ts'
import { createLogger } from '../../src/observability/index.ts'

function capture() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString())
      done()
    },
  })
  return { lines, stream }
}

it('writes JSON lines with a textual level and never the secrets of the configuration', () => {
  const { lines, stream } = capture()
  const logger = createLogger('info', 'consumer', stream)
  const config = loadConfig({ DATABASE_URL: 'postgres://app:hunter2@db/events', REDIS_PASSWORD: 's3cret' })
  logger.info({ config, password: 'p4ss', eventId: 'e-1' }, 'starting')
  logger.debug('not shown at info')
  assert.equal(lines.length, 1)
  const line = JSON.parse(lines[0] as string)
  assert.equal(line.level, 'info')
  assert.equal(line.role, 'consumer')
  assert.equal(line.eventId, 'e-1')
  assert.equal(line.msg, 'starting')
  assert.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  assert.ok(Math.abs(Date.parse(line.time) - Date.now()) < 5000, line.time)
  const text = lines.join('')
  for (const secret of ['hunter2', 's3cret', 'p4ss']) assert.ok(!text.includes(secret), secret)
})

it('writes every line of several loggers to stdout whole and in order, even when the process exits at once', () => {
  // Three loggers, as `pipeline all` has, logging fast enough that lines queue behind an asynchronous write,
  // then process.exit() in the same turn: nothing may be lost, cut or interleaved.
  const script = `
    import { createLogger } from ${JSON.stringify(new URL('../../src/observability/index.ts', import.meta.url).href)}
    const loggers = ['producer', 'consumer', 'api'].map(role => createLogger('info', role))
    for (let i = 0; i < 20000; i++) loggers[i % 3].info({ i, padding: 'x'.repeat(i % 500) }, 'line')
    process.exit(3)
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  })
  assert.equal(run.status, 3, run.stderr)
  const lines = run.stdout.trimEnd().split('\n')
  assert.equal(lines.length, 20000)
  lines.forEach((text, i) => {
    const line = JSON.parse(text) as { i: number; role: string }
    assert.equal(line.i, i)
    assert.equal(line.role, ['producer', 'consumer', 'api'][i % 3])
  })
})
