import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { banner } from '../../src/cli/banner.ts'
import { loadConfig } from '../../src/config/index.ts'

const logger = fileURLToPath(new URL('../../src/observability/index.ts', import.meta.url))

describe('the terminal', () => {
  it('shows where each role answers, the store, Kafka and Redis, and never a password', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:s3cret-pw@db.internal:5433/events',
      REDIS_PASSWORD: 'redis-s3cret',
    })
    const text = banner(
      config,
      { producer: 'http://127.0.0.1:8080', consumer: 'http://127.0.0.1:8081', api: 'http://127.0.0.1:8082' },
      '1.2.3',
    )
    assert.match(text, /^event-pipeline 1\.2\.3 is running\n/)
    for (const expected of [
      /producer +http:\/\/127\.0\.0\.1:8080 +POST \/produce/,
      /read API +http:\/\/127\.0\.0\.1:8082/,
      /store +PostgreSQL db\.internal:5433\/events/,
      /Kafka +localhost:9092 \(topic events\)/,
      /Redis +localhost:6379/,
      /npm run kafka:stop/,
    ]) {
      assert.match(text, expected)
    }
    assert.doesNotMatch(text, /s3cret/)
    for (const line of text.split('\n')) assert.ok(line.length <= 100, `at most 100 columns: ${line}`)
  })

  it('writes pretty lines when asked and JSON otherwise', () => {
    const script = (format: string) => `
      const { configureLogOutput, createLogger } = await import(${JSON.stringify(logger)})
      configureLogOutput(${JSON.stringify(format)}, false)
      createLogger('info', 'consumer').info({ eventId: 'e-1' }, 'event applied')`
    const run = (format: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script(format)], { encoding: 'utf8' }).stdout
    const json = JSON.parse(run('json').trim()) as Record<string, unknown>
    assert.equal(json['msg'], 'event applied')
    assert.equal(json['eventId'], 'e-1')
    const pretty = run('pretty')
    assert.throws(() => JSON.parse(pretty.trim()))
    assert.match(pretty, /INFO.*event applied/)
    assert.match(pretty, /eventId: "e-1"/)
    assert.equal(JSON.parse(run('auto').trim())['msg'], 'event applied', 'auto is JSON when stdout is no terminal')
  })
})
