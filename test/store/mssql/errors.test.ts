// Error classification by SQL Server error number and tedious code, with real tedious error objects.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TimeoutError } from 'tarn'
import { ConnectionError, RequestError } from 'tedious'
import { PipelineError } from '../../../src/errors.ts'
import { isDeadlock, toPipelineError } from '../../../src/store/mssql/errors.ts'
import { fkMessage, serverError } from './fake-server.ts'

describe('mssql error classification', () => {
  it('maps SQL Server error numbers', () => {
    const cases: [number, string, boolean][] = [
      [547, 'CONSTRAINT_VIOLATION', false],
      [515, 'CONSTRAINT_VIOLATION', false],
      [2627, 'DB_UNAVAILABLE', true],
      [2601, 'DB_UNAVAILABLE', true],
      [1205, 'DB_UNAVAILABLE', true],
      [1222, 'DB_UNAVAILABLE', true],
      [8152, 'DATA_OUT_OF_RANGE', false],
      [2628, 'DATA_OUT_OF_RANGE', false],
      [8115, 'DATA_OUT_OF_RANGE', false],
      [220, 'DATA_OUT_OF_RANGE', false],
      [8023, 'DATA_OUT_OF_RANGE', false],
      [4060, 'DB_UNAVAILABLE', true],
      [40613, 'DB_UNAVAILABLE', true],
      [9002, 'DB_UNAVAILABLE', true],
      [50001, 'DB_UNAVAILABLE', true],
      [208, 'INTERNAL', false],
      [102, 'INTERNAL', false],
    ]
    for (const [number, code, retryable] of cases) {
      const error = toPipelineError(serverError(number))
      assert.deepEqual([error.code, error.retryable], [code, retryable], String(number))
      assert.ok(error.cause instanceof RequestError, String(number))
    }
  })

  it('names FK_Orders_Users for a foreign key conflict', () => {
    const error = toPipelineError(serverError(547, fkMessage))
    assert.equal(error.code, 'CONSTRAINT_VIOLATION')
    assert.equal(error.constraint, 'FK_Orders_Users')
    assert.match(error.message, /FK_Orders_Users/)
    assert.match(error.message, /orders\.user_id names a user that does not exist/)
    const check = toPipelineError(serverError(547, 'The INSERT statement conflicted with the CHECK constraint "CK_x".'))
    assert.equal(check.constraint, 'CK_x')
  })

  it('says clearly that a value was too long', () => {
    const error = toPipelineError(
      serverError(2628, "String or binary data would be truncated in table 'events.dbo.users', column 'name'."),
    )
    assert.match(error.message, /^value too long for its column: .*column 'name'.*\[SQL Server error 2628\]$/)
    assert.match(toPipelineError(serverError(8115, 'Arithmetic overflow error')).message, /out of range/)
  })

  it('treats connection failures and request timeouts as retryable', () => {
    for (const code of ['ESOCKET', 'ETIMEOUT', 'ELOGIN', 'EINSTLOOKUP', 'ECLOSE', undefined]) {
      const error = toPipelineError(new ConnectionError('Failed to connect to db:1433', code))
      assert.deepEqual([error.code, error.retryable], ['DB_UNAVAILABLE', true], String(code))
    }
    for (const code of ['ETIMEOUT', 'ECLOSE', 'ESOCKET', 'EINVALIDSTATE', 'ECANCEL']) {
      const error = toPipelineError(new RequestError('Timeout: Request failed to complete in 30000ms', code))
      assert.deepEqual([error.code, error.retryable], ['DB_UNAVAILABLE', true], code)
    }
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1433'), { code: 'ECONNREFUSED' })
    assert.equal(toPipelineError(refused).code, 'DB_UNAVAILABLE')
    assert.equal(toPipelineError(new TimeoutError('operation timed out')).code, 'DB_UNAVAILABLE')
    assert.equal(
      toPipelineError(new Error('The connection ended without ever completing the connection')).code,
      'DB_UNAVAILABLE',
    )
  })

  it('treats a parameter tedious refuses as out of range', () => {
    const error = toPipelineError(new RequestError("Validation failed for parameter '3'. Invalid number.", 'EPARAM'))
    assert.deepEqual([error.code, error.retryable], ['DATA_OUT_OF_RANGE', false])
  })

  it('looks at every error of a request: the one understood, a transient one first', () => {
    const terminated = serverError(3621, 'The statement has been terminated.')
    // Kysely rejects with tedious's AggregateError's errors (an array).
    const fk = toPipelineError([serverError(547, fkMessage), terminated])
    assert.deepEqual([fk.code, fk.constraint], ['CONSTRAINT_VIOLATION', 'FK_Orders_Users'])
    assert.equal(toPipelineError(new AggregateError([terminated, serverError(1205)])).code, 'DB_UNAVAILABLE')
    assert.equal(toPipelineError([terminated]).code, 'INTERNAL')
    assert.ok(isDeadlock([terminated, serverError(1205)]))
    assert.ok(!isDeadlock(serverError(1222)))
  })

  it('leaves PipelineErrors alone and makes anything else INTERNAL', () => {
    const mine = new PipelineError('DATA_OUT_OF_RANGE', 'mine')
    assert.equal(toPipelineError(mine), mine)
    const bug = toPipelineError(new TypeError('a bug'))
    assert.deepEqual([bug.code, bug.retryable, bug.message], ['INTERNAL', false, 'a bug'])
  })
})
