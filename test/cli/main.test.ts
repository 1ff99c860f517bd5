import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { configTable, spec } from '../../src/config/index.ts'
import { sqliteFile } from '../helpers/resources.ts'

const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))
const pipeline = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [main, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' })

describe('pipeline command', () => {
  it('migrate creates the schema and exits', async t => {
    const path = sqliteFile(t)
    const r = pipeline(['migrate'], { DATABASE_URL: `sqlite:${path}` })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /sqlite schema is up to date/)
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(path, { readOnly: true })
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string
    }[]
    db.close()
    for (const table of ['users', 'orders', 'payments', 'inventory', 'inventory_ledger']) {
      assert.ok(
        tables.some(x => x.name === table),
        table,
      )
    }
  })

  it('prints its version', async () => {
    const r = pipeline(['--version'])
    assert.equal(r.status, 0)
    const { version } = JSON.parse(
      (await import('node:fs')).readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string }
    assert.equal(r.stdout, `event-pipeline ${version}\n`)
  })

  it('checks only the variables its command reads: SERVICE_PORT does not stop migrate or all', t => {
    const r = pipeline(['migrate'], { DATABASE_URL: `sqlite:${sqliteFile(t)}`, SERVICE_PORT: 'abc' })
    assert.equal(r.status, 0, r.stderr)
    const alone = pipeline(['api'], { SERVICE_PORT: 'abc' })
    assert.equal(alone.status, 78)
    assert.match(alone.stderr, /SERVICE_PORT: "abc" is not a port/)
  })

  it('refuses invalid configuration with one line per bad variable and exit code 78', () => {
    const r = pipeline(['all'], { KAFKA_BROKERS: 'nope', API_PORT: 'x', DATABASE_URL: 'mysql://root:hunter2@h/db' })
    assert.equal(r.status, 78)
    assert.match(r.stderr, /KAFKA_BROKERS: "nope" is not host:port/)
    assert.match(r.stderr, /API_PORT: "x" is not a port/)
    assert.match(r.stderr, /DATABASE_URL: it does not start with sqlite:, postgres:\/\/ or mssql:\/\//)
    assert.ok(!r.stderr.includes('hunter2'))
    assert.ok(!r.stderr.includes('    at '), 'no stack trace')
  })

  it('--help prints the commands and every variable, readable at 100 columns', () => {
    const r = pipeline(['--help'])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /migrate/)
    for (const v of Object.values(spec)) assert.match(r.stdout, new RegExp(`^  ${v.name} \\(default `, 'm'), v.name)
    const wide = r.stdout.split('\n').filter(line => line.length > 100)
    assert.deepEqual(wide, [], 'no line wider than 100 columns')
    // The markdown table (for the README) is its own command.
    assert.ok(pipeline(['config-table']).stdout.includes(configTable()))
  })

  it('config prints the configuration with secrets redacted', () => {
    const r = pipeline(['config'], { REDIS_PASSWORD: 's3cret', DATABASE_URL: 'postgres://u:pw@h/db' })
    assert.equal(r.status, 0)
    const shown = JSON.parse(r.stdout)
    assert.equal(shown.REDIS_PASSWORD, '[redacted]')
    assert.equal(shown.DATABASE_URL, '[redacted]')
    assert.equal(shown.KAFKA_TOPIC, 'events')
  })
})
