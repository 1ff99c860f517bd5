// PostgreSQL over TLS, against a real server this test starts with ssl=on and a pg_hba.conf that admits TCP
// clients only over TLS: DATABASE_URL's sslmode and sslrootcert reach the pipeline's pool, a server whose
// certificate the CA did not sign is refused with DB_UNAVAILABLE naming TLS, and a client that does not encrypt
// is refused by the server.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConfigError, loadConfig } from '../../../src/config/index.ts'
import { createStore, type Store } from '../../../src/store/index.ts'
import { createPool } from '../../../src/store/postgres/driver.ts'
import { tlsFailure, toPipelineError } from '../../../src/store/postgres/errors.ts'
import { sourced, userCreated } from '../events.ts'
import { assertPipelineError } from '../harness.ts'
import { startTlsPostgres, type TlsPostgres, tlsPostgresUnavailable } from './tls-server.ts'

const unavailable = tlsPostgresUnavailable()

async function store(t: TestContext, url: string): Promise<Store> {
  const opened = await createStore({ engine: 'postgres', url }, { timeoutMs: 5000, poolSize: 2 })
  t.after(() => opened.close())
  return opened
}

describe('PostgreSQL over TLS', { skip: unavailable ?? false }, () => {
  let server: TlsPostgres
  before(async () => {
    server = await startTlsPostgres()
  })
  // Also when a test failed: the server and its directory never outlive the file.
  after(() => server?.stop())

  it('connects with sslmode=verify-full and the CA, migrates and applies a batch, encrypted', async t => {
    const url = server.url({ sslmode: 'verify-full', sslrootcert: server.caFile })
    const s = await store(t, url)
    await s.migrate()
    const result = await s.applyBatch(sourced(userCreated({ userId: 'tls-u1' }), userCreated({ userId: 'tls-u2' })))
    assert.equal(result.upserts, 2)
    // The pipeline's own pool, from the same URL: its sessions are TLS sessions, and they see the rows.
    const { pool } = createPool({ url, poolSize: 1, timeoutMs: 5000 })
    t.after(() => pool.end())
    const ssl = await pool.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
    assert.equal(ssl.rows[0]?.ssl, true)
    assert.match(String(ssl.rows[0]?.version), /^TLSv1\.[23]$/)
    const users = await pool.query("SELECT count(*)::int AS n FROM users WHERE user_id LIKE 'tls-%'")
    assert.equal(users.rows[0]?.n, 2)
  })

  it('refuses a server whose certificate another CA signed: DB_UNAVAILABLE, naming TLS', async t => {
    const s = await store(t, server.url({ sslmode: 'verify-full', sslrootcert: server.otherCaFile }))
    await assertPipelineError(s.migrate(), { code: 'DB_UNAVAILABLE', retryable: true, message: /TLS/ })
    await assertPipelineError(s.ping(), { code: 'DB_UNAVAILABLE', retryable: true, message: /TLS.*certificate/i })
  })

  it('refuses a name the certificate does not carry, even with the right CA', async t => {
    const url = server.url({ sslmode: 'verify-full', sslrootcert: server.caFile }).replace('127.0.0.1', '127.0.0.2')
    const s = await store(t, url)
    await assertPipelineError(s.ping(), { code: 'DB_UNAVAILABLE', retryable: true, message: /TLS/ })
  })

  it("sslmode=require verifies the certificate (pg 8's reading); uselibpqcompat=true encrypts without it", async t => {
    // No sslrootcert: the system's CAs do not include this test's CA, so pg's require (verify-full) refuses.
    const strict = await store(t, server.url({ sslmode: 'require' }))
    await assertPipelineError(strict.ping(), { code: 'DB_UNAVAILABLE', retryable: true, message: /TLS/ })
    // libpq's require: encrypted, the server not authenticated.
    const loose = await store(t, server.url({ sslmode: 'require', uselibpqcompat: 'true' }))
    await loose.migrate()
    await loose.ping()
  })

  it('is refused by a server that admits TCP clients only over TLS when sslmode=disable', async t => {
    const s = await store(t, server.url({ sslmode: 'disable' }))
    await assertPipelineError(s.ping(), { code: 'DB_UNAVAILABLE', retryable: true, message: /no encryption/ })
  })

  it('stops `pipeline migrate` with one line naming TLS and the variable, and no password', () => {
    const url = server
      .url({ sslmode: 'verify-full', sslrootcert: server.otherCaFile })
      .replace('postgres@', 'postgres:hunter2-secret@')
    const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url))
    const run = spawnSync(process.execPath, [main, 'migrate'], {
      env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: url, DB_TIMEOUT_MS: '5000' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    assert.equal(run.status, 1, run.stderr)
    assert.match(run.stderr, /DB_UNAVAILABLE: .*PostgreSQL TLS: the server's certificate was refused.*DATABASE_URL/)
    assert.doesNotMatch(run.stderr, /hunter2/)
  })
})

describe('TLS failures in the taxonomy', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code })

  it('reads a certificate the CA does not vouch for, a wrong name and a failed handshake as TLS failures', () => {
    assert.match(
      tlsFailure(withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')) ?? '',
      /^PostgreSQL TLS: the server's certificate was refused: .* \[UNABLE_TO_VERIFY_LEAF_SIGNATURE\] \(sslrootcert/,
    )
    assert.match(tlsFailure(withCode('self-signed', 'SELF_SIGNED_CERT_IN_CHAIN')) ?? '', /refused.*sslrootcert/)
    assert.match(tlsFailure(withCode('certificate has expired', 'CERT_HAS_EXPIRED')) ?? '', /refused.*renew/)
    assert.match(
      tlsFailure(withCode("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID')) ?? '',
      /the URL must name the host as its certificate does/,
    )
    assert.match(tlsFailure(withCode('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER')) ?? '', /handshake failed/)
    assert.match(tlsFailure(new Error('The server does not support SSL connections')) ?? '', /ssl = off/)
  })

  it('leaves every other failure to the rest of the mapping', () => {
    assert.equal(tlsFailure(withCode('connect ECONNREFUSED', 'ECONNREFUSED')), undefined)
    assert.equal(tlsFailure(new Error('Connection terminated unexpectedly')), undefined)
    assert.equal(tlsFailure('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), undefined)
    assert.equal(tlsFailure(withCode('no such file', 'ENOENT')), undefined)
  })

  it('makes a TLS failure a retryable DB_UNAVAILABLE, never an INTERNAL that would dead-letter valid events', () => {
    const error = toPipelineError(withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'))
    assert.equal(error.code, 'DB_UNAVAILABLE')
    assert.equal(error.retryable, true)
  })
})

describe("DATABASE_URL's TLS parameters, checked at start", () => {
  const problemsOf = (url: string): string => {
    try {
      loadConfig({ DATABASE_URL: url })
      return ''
    } catch (error) {
      assert.ok(error instanceof ConfigError)
      return error.message
    }
  }
  const ca = fileURLToPath(import.meta.url) // any readable file will do for the check

  it('accepts the modes pg knows and readable files', () => {
    for (const mode of ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']) {
      assert.equal(problemsOf(`postgres://u:p@h/db?sslmode=${mode}&sslrootcert=${ca}`), '', mode)
    }
    assert.equal(problemsOf(`postgres://u:p@h/db?sslmode=verify-full&sslcert=${ca}&sslkey=${ca}`), '')
    assert.equal(problemsOf('postgres://u:p@h/db?sslmode=require&uselibpqcompat=true'), '')
  })

  it('refuses an unknown sslmode, an unreadable file and libpq verify-ca without a CA, quoting nothing', () => {
    assert.match(problemsOf('postgres://u:secret1@h/db?sslmode=verify_full'), /DATABASE_URL.*sslmode is not one of/)
    assert.match(problemsOf('postgres://u:secret1@h/db?sslmode=allow'), /sslmode is not one of/)
    assert.match(problemsOf('postgres://u:secret1@h/db?sslrootcert=/nonexistent/ca.pem'), /sslrootcert names no/)
    assert.match(problemsOf('postgres://u:secret1@h/db?sslkey=/nonexistent/k.pem'), /sslkey names no readable file/)
    assert.match(
      problemsOf('postgres://u:secret1@h/db?sslmode=verify-ca&uselibpqcompat=true'),
      /verify-ca needs sslrootcert/,
    )
    for (const url of ['postgres://u:secret1@h/db?sslmode=verify_full', 'postgres://u:secret1@h/db?sslrootcert=/x']) {
      assert.doesNotMatch(problemsOf(url), /secret1|verify_full|\/x/)
    }
  })
})
