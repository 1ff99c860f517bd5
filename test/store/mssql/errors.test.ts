// Error classification by SQL Server error number and tedious code, with real tedious error objects.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TimeoutError } from 'tarn'
import { ConnectionError, RequestError } from 'tedious'
import { PipelineError } from '../../../src/errors.ts'
import { isDeadlock, toPipelineError, transientNumbers } from '../../../src/store/mssql/errors.ts'
import { fkMessage, serverError } from './fake-server.ts'

describe('mssql error classification', () => {
  it('maps SQL Server error numbers', () => {
    const cases: [number, string, boolean][] = [
      [547, 'CONSTRAINT_VIOLATION', false],
      [515, 'CONSTRAINT_VIOLATION', false],
      [2627, 'CONSTRAINT_VIOLATION', false],
      [2601, 'CONSTRAINT_VIOLATION', false],
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

  // Every number the brief and Azure SQL's transient list name, each checked on its own: a number that falls
  // through to INTERNAL is dead-lettered, which for a server condition loses valid events.
  const transientCases = [
    [1205, 'deadlock victim'],
    [1222, 'lock request time out'],
    [1204, 'cannot obtain a LOCK resource'],
    [3960, 'snapshot isolation update conflict'],
    [3961, 'snapshot isolation: object modified by DDL'],
    [701, 'insufficient system memory'],
    [8651, 'low memory condition'],
    [8645, 'timeout waiting for memory resources'],
    [8628, 'timeout while optimising the query'],
    [1105, 'filegroup is full'],
    [1101, 'no disk space for a new page'],
    [9002, 'transaction log is full'],
    [40544, 'database reached its size quota'],
    [4060, 'cannot open database'],
    [942, 'database is offline'],
    [3906, 'database is read-only (failover)'],
    [976, 'availability replica not accessible'],
    [983, 'availability replica not in PRIMARY or SECONDARY role'],
    [596, 'session in the kill state'],
    [6005, 'SHUTDOWN is in progress'],
    [17142, 'server paused'],
    [50001, "the pipeline's migration or creation lock not granted"],
    [4221, 'read-secondary login waiting for versioning'],
    [615, 'database ID not found (being moved)'],
    [926, 'database cannot be opened (reconfiguration)'],
    [10928, 'resource limit reached'],
    [10929, 'resource minimum guarantee'],
    [10936, 'elastic pool request limit'],
    [40143, 'service error processing the request'],
    [40197, 'service error processing the request (failover)'],
    [40501, 'service is busy'],
    [40540, 'service error, try again'],
    [40549, 'long-running transaction terminated'],
    [40613, 'database not currently available'],
    [42108, 'serverless database paused'],
    [42109, 'serverless database resuming'],
    [49918, 'not enough resources'],
    [49919, 'too many create or update operations'],
    [49920, 'too many operations in progress'],
    [41301, 'In-Memory OLTP dependency failure'],
    [41302, 'In-Memory OLTP update conflict'],
    [41305, 'In-Memory OLTP repeatable read validation'],
    [41325, 'In-Memory OLTP serializable validation'],
    [41839, 'In-Memory OLTP too many commit dependencies'],
    [64, 'network error after connecting'],
    [121, 'semaphore timeout'],
    [233, 'no process at the other end'],
    [10053, 'connection aborted'],
    [10054, 'connection reset'],
    [10060, 'connection timed out'],
  ] as const

  for (const [number, meaning] of transientCases) {
    it(`retries ${number} (${meaning}) as DB_UNAVAILABLE`, () => {
      const cause = serverError(number, meaning)
      const error = toPipelineError(cause)
      assert.deepEqual([error.code, error.retryable], ['DB_UNAVAILABLE', true])
      assert.equal(error.cause, cause)
      assert.match(error.message, new RegExp(`\\[SQL Server error ${number}\\]$`))
    })
  }

  it('has a test above for every transient number it knows', () => {
    assert.deepEqual(
      [...transientNumbers].sort((a, b) => a - b),
      transientCases.map(([n]) => n).sort((a, b) => a - b),
    )
  })

  it('dead-letters an unknown number as INTERNAL', () => {
    for (const number of [208, 102, 3621, 99999]) {
      const error = toPipelineError(serverError(number))
      assert.deepEqual([error.code, error.retryable], ['INTERNAL', false], String(number))
    }
  })

  it('dead-letters a duplicate key, naming the constraint or index', () => {
    const primary = toPipelineError(
      serverError(
        2627,
        "Violation of PRIMARY KEY constraint 'PK_users'. Cannot insert duplicate key in object 'dbo.users'. The duplicate key value is (u1).",
      ),
    )
    assert.deepEqual([primary.code, primary.retryable, primary.constraint], ['CONSTRAINT_VIOLATION', false, 'PK_users'])
    assert.match(primary.message, /^duplicate key: Violation of PRIMARY KEY .*\[SQL Server error 2627\]$/)
    const index = toPipelineError(
      serverError(
        2601,
        "Cannot insert duplicate key row in object 'dbo.users' with unique index 'UX_users_email'. The duplicate key value is (a@b).",
      ),
    )
    assert.deepEqual([index.code, index.retryable, index.constraint], ['CONSTRAINT_VIOLATION', false, 'UX_users_email'])
    // Without a name in the message the error is still permanent.
    const bare = toPipelineError(serverError(2627, 'duplicate'))
    assert.deepEqual([bare.code, bare.retryable, bare.constraint], ['CONSTRAINT_VIOLATION', false, undefined])
  })

  it('reports a length CHECK of the schema as DATA_OUT_OF_RANGE naming the column', () => {
    const error = toPipelineError(
      serverError(
        547,
        'The MERGE statement conflicted with the CHECK constraint "CK_inventory_ledger_reason_len". The conflict occurred in database "events", table "dbo.inventory_ledger", column \'reason\'.',
      ),
    )
    assert.deepEqual(
      [error.code, error.retryable, error.constraint],
      ['DATA_OUT_OF_RANGE', false, 'CK_inventory_ledger_reason_len'],
    )
    assert.match(error.message, /^inventory_ledger\.reason is longer than its column allows: /)
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
