import assert from 'node:assert/strict'
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
  const text = lines.join('')
  for (const secret of ['hunter2', 's3cret', 'p4ss']) assert.ok(!text.includes(secret), secret)
})
