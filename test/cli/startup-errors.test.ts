// The wording of start-up failures, from the error and the configuration alone.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { databaseLabel, redact, startupFailure } from '../../src/cli/startup-errors.ts'
import { loadConfig } from '../../src/config/index.ts'
import { PipelineError } from '../../src/errors.ts'

const context = (env: Record<string, string>) => ({ config: loadConfig(env), roles: ['api'] as const, alone: false })

describe('start-up failure wording', () => {
  it('names a database by host:port and name, never by its credentials', () => {
    const { config } = context({ DATABASE_URL: 'postgres://app:p%40ss@db.internal/events' })
    assert.equal(databaseLabel(config.database), 'PostgreSQL (db.internal:5432, database events)')
    assert.equal(
      databaseLabel({ engine: 'mssql', url: 'mssql://sa:pw@sql:1444/orders' }),
      'SQL Server (sql:1444, database orders)',
    )
    assert.equal(
      databaseLabel({ engine: 'mssql', connectionString: 'Server=x;Password=pw' }),
      'SQL Server (MSSQL_CONN)',
    )
  })

  it('redacts every secret of the configuration, a URL whole and its password alone, raw and decoded', () => {
    const { config } = context({ DATABASE_URL: 'postgres://app:p%40ss@db/events', REDIS_PASSWORD: 'r3dis' })
    assert.equal(
      redact('postgres://app:p%40ss@db/events p@ss p%40ss r3dis', config),
      '[redacted] [redacted] [redacted] [redacted]',
    )
  })

  it('says why a server cannot listen: an address not of this machine, or a privileged port', () => {
    const listenError = (code: string, port: number) =>
      Object.assign(new Error(`listen ${code}`), { code, syscall: 'listen', port })
    const host = startupFailure(listenError('EADDRNOTAVAIL', 8082), context({ HOST: '203.0.113.1' }))
    assert.equal(
      host.line,
      'pipeline: could not start: ADDRESS_UNAVAILABLE: cannot listen: HOST 203.0.113.1 is not an address of this machine; set HOST (127.0.0.1, or 0.0.0.0 for every interface)',
    )
    const privileged = startupFailure(listenError('EACCES', 80), context({ API_PORT: '80' }))
    assert.match(privileged.line, /ADDRESS_UNAVAILABLE: cannot listen: port 80 \(API_PORT\) needs privileges/)
  })

  it('keeps an unknown failure one line in its own code', () => {
    const failure = startupFailure(new PipelineError('INTERNAL', 'first\n  second'), context({}))
    assert.equal(failure.line, 'pipeline: could not start: INTERNAL: first second')
    assert.equal(failure.report, `${failure.line}\n`)
  })

  it('adds the stack only at LOG_LEVEL=DEBUG', () => {
    const failure = startupFailure(new Error('boom'), context({ LOG_LEVEL: 'DEBUG' }))
    assert.match(failure.report, /^pipeline: could not start: INTERNAL: boom\nError: boom\n {4}at /)
  })
})
