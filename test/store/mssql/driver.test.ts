// Opening the database at start, offline: the target database is tried first, so a login without access to
// master starts whenever the database exists; master is used only to create a database that cannot be opened
// (4060), and a failure of both says what to do. The fake connections answer logins as SQL Server does: the
// error messages first ('errorMessage' events), then tedious's ConnectionError carrying only the last one.
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { ConnectionError } from 'tedious'
import type { Store } from '../../../src/store/index.ts'
import { createDatabaseText } from '../../../src/store/mssql/driver.ts'
import { createMssqlStore } from '../../../src/store/mssql/store.ts'
import { assertPipelineError } from '../harness.ts'
import { cannotOpen, FakeServer, loginFailed } from './fake-server.ts'

const conn = 'server=mssql;user id=app;password=pw;database=events;encrypt=disable'

function open(t: TestContext, server: FakeServer): Store {
  const store = createMssqlStore({ connectionString: conn, connectionFactory: server.factory })
  t.after(() => store.close())
  return store
}

const creations = (server: FakeServer) => server.statements().filter(r => r.sql === createDatabaseText)

describe('mssql: opening the database at start', () => {
  it('uses an existing database without logging in to master', async t => {
    const server = new FakeServer()
    server.refuseLogin.set('master', loginFailed(18456, "Login failed for user 'app'."))
    await open(t, server).migrate()
    assert.ok(!server.logins.includes('master'), server.logins.join(', '))
    assert.equal(server.logins[0], 'events')
    assert.deepEqual(creations(server), [])
  })

  it('creates a database that cannot be opened through master, then opens it', async t => {
    const server = new FakeServer()
    server.refuseLogin.set('events', cannotOpen('events', 'app'))
    server.respond = r => {
      if (r.sql === createDatabaseText) server.refuseLogin.delete('events')
      return undefined
    }
    await open(t, server).migrate()
    assert.deepEqual(server.logins.slice(0, 3), ['events', 'master', 'events'])
    const [create, ...more] = creations(server)
    assert.deepEqual([create?.database, create?.values, more.length], ['master', ['events'], 0])
  })

  it('says what to do when the database cannot be opened and master refuses the login', async t => {
    const server = new FakeServer()
    server.refuseLogin.set('events', cannotOpen('events', 'app'))
    server.refuseLogin.set('master', loginFailed(18456, "Login failed for user 'app'."))
    const error = await assertPipelineError(open(t, server).migrate(), {
      code: 'DB_UNAVAILABLE',
      retryable: true,
      message:
        /^cannot open database "events" \(Login failed for user 'app'\. \[SQL Server error 4060\]\) and cannot create it through master \(Login failed for user 'app'\.\): create the database/,
    })
    assert.ok(error.cause instanceof AggregateError)
    assert.deepEqual(creations(server), [])
  })

  it('says what to do when the database exists but the login has no user in it', async t => {
    const server = new FakeServer()
    // The creation text finds the database (DB_ID is not NULL) and does nothing; the login still cannot open it.
    server.refuseLogin.set('events', cannotOpen('events', 'app'))
    await assertPipelineError(open(t, server).migrate(), {
      code: 'DB_UNAVAILABLE',
      retryable: true,
      message: /^database "events" exists but this login cannot open it .*create a user for the login/,
    })
    assert.deepEqual(server.logins, ['events', 'master', 'events'])
  })

  it('does not try master when the login fails for another reason', async t => {
    const server = new FakeServer()
    server.refuseLogin.set('events', loginFailed(18456, "Login failed for user 'app'."))
    const error = await assertPipelineError(open(t, server).migrate(), {
      code: 'DB_UNAVAILABLE',
      retryable: true,
      message: /Login failed for user 'app'\. \[ELOGIN\]/,
    })
    assert.ok(error.cause instanceof ConnectionError)
    assert.deepEqual(server.logins, ['events'])
  })
})
