// MSSQL_CONN and mssql:// URL parsing: the seed's string, ADO synonyms and quoting, and malformed strings, whose
// errors must name the variable and the key and never repeat a password.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { ConfigError } from '../../../src/config/index.ts'
import { createStore } from '../../../src/store/index.ts'
import { describeConnection, type MssqlConnectionOptions, parseMssqlUrl } from '../../../src/store/mssql/connection.ts'
import { parseConnectionString } from '../../../src/store/mssql/connection-string.ts'
import { tediousConfig } from '../../../src/store/mssql/driver.ts'

const secret = 'Sup3r;Secret"pw'

function fields(o: MssqlConnectionOptions) {
  const { server, port, instanceName, database, user, password, encrypt, trustServerCertificate } = o
  return { server, port, instanceName, database, user, password, encrypt, trustServerCertificate }
}

function problems(parse: () => unknown): string {
  try {
    parse()
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`)
    return error.message
  }
  return assert.fail('expected a ConfigError')
}

describe('MSSQL_CONN', () => {
  it("parses the seed's connection string", () => {
    const o = parseConnectionString('server=mssql;user id=sa;password=Your_strong_pwd1;database=events;encrypt=disable')
    assert.deepEqual(fields(o), {
      server: 'mssql',
      port: undefined,
      instanceName: undefined,
      database: 'events',
      user: 'sa',
      password: 'Your_strong_pwd1',
      encrypt: false,
      trustServerCertificate: false,
    })
    assert.equal(o.connectTimeoutMs, 5000)
    assert.equal(o.appName, 'event-pipeline')
  })

  it('takes ADO synonyms, any case, extra spaces and an ignorable key', () => {
    const o = parseConnectionString(
      ' Data Source = tcp:db.example.com,1444 ; UID=app;PWD=pw;Initial  Catalog=Events;' +
        'Encrypt=Strict;TrustServerCertificate=YES;Connect Timeout=9;Application Name=etl;MultipleActiveResultSets=true;',
    )
    assert.deepEqual(fields(o), {
      server: 'db.example.com',
      port: 1444,
      instanceName: undefined,
      database: 'Events',
      user: 'app',
      password: 'pw',
      encrypt: 'strict',
      trustServerCertificate: true,
    })
    assert.equal(o.connectTimeoutMs, 9000)
    assert.equal(o.appName, 'etl')
    for (const key of ['addr', 'address', 'network address', 'SERVER']) {
      assert.equal(parseConnectionString(`${key}=h;user=u;password=p;database=d`).server, 'h', key)
    }
  })

  it('reads host\\instance, host,port, a port key, (local) and IPv6', () => {
    const named = parseConnectionString('server=db\\SQLEXPRESS;user id=u;password=p;database=d')
    assert.deepEqual([named.server, named.port, named.instanceName], ['db', undefined, 'SQLEXPRESS'])
    // An explicit port wins over the instance name, as in ADO.
    const both = parseConnectionString('server=db\\SQLEXPRESS,1500;user id=u;password=p;database=d')
    assert.deepEqual([both.server, both.port, both.instanceName], ['db', 1500, undefined])
    const portKey = parseConnectionString('server=db;port=1555;user id=u;password=p;database=d')
    assert.equal(portKey.port, 1555)
    assert.equal(parseConnectionString('server=(local);user id=u;password=p;database=d').server, 'localhost')
    const v6 = parseConnectionString('server=[::1],1433;user id=u;password=p;database=d')
    assert.deepEqual([v6.server, v6.port], ['::1', 1433])
  })

  it('unquotes "…", \'…\' and {…} values, which may hold ; = and quotes', () => {
    assert.equal(parseConnectionString('server=h;user=u;password="a;b=""c""";database=d').password, 'a;b="c"')
    assert.equal(parseConnectionString("server=h;user=u;password='it''s;x';database=d").password, "it's;x")
    assert.equal(parseConnectionString('server=h;user=u;password={p}}w;d};database=d').password, 'p}w;d')
    assert.equal(parseConnectionString('server=h;user=u;password=a=b;database=d').password, 'a=b')
    assert.equal(parseConnectionString('server=h;user=u;password=;database=d').password, '')
  })

  it('maps onto a tedious configuration', () => {
    const config = tediousConfig(
      parseConnectionString(
        'server=db,1444;user id=sa;password=pw;database=events;encrypt=true;trustservercertificate=true',
      ),
    )
    assert.equal(config.server, 'db')
    assert.deepEqual(config.authentication, { type: 'default', options: { userName: 'sa', password: 'pw' } })
    assert.equal(config.options?.port, 1444)
    assert.equal(config.options?.instanceName, undefined)
    assert.equal(config.options?.database, 'events')
    assert.equal(config.options?.encrypt, true)
    assert.equal(config.options?.trustServerCertificate, true)
    assert.equal(config.options?.abortTransactionOnError, true)
    assert.equal(config.options?.enableAnsiWarnings, true)
    assert.equal(config.options?.useUTC, true)
    assert.equal(config.options?.requestTimeout, 30_000)
    const bounded = { ...parseConnectionString('server=h;user=u;password=p;database=d'), requestTimeoutMs: 1500 }
    assert.equal(tediousConfig(bounded).options?.requestTimeout, 1500, 'DB_TIMEOUT_MS bounds every request')
    assert.equal(
      tediousConfig(parseConnectionString('server=h\\i;user=u;password=p;database=d'), 'master').options?.database,
      'master',
    )
  })

  it('fails on malformed strings, naming the key', () => {
    const cases: [string, RegExp][] = [
      [
        'server=h;user=u;databse=d;password=p',
        /MSSQL_CONN: an unknown key at position 3 \(did you mean "database"\?\)/,
      ],
      ['server=h;user=u;password=p;database=d;colour=red', /MSSQL_CONN: an unknown key at position 5$/m],
      ['server=h;user=u;password=p;databse=d', /MSSQL_CONN: an unknown key at position 4, after an unquoted password/],
      ['user=u;password=p;database=d', /MSSQL_CONN: server is missing/],
      ['server=h;password=p;database=d', /MSSQL_CONN: user id is missing/],
      ['server=h;user=u;database=d', /MSSQL_CONN: password is missing/],
      ['server=h;user=u;password=p', /MSSQL_CONN: database is missing/],
      ['server=h,99999;user=u;password=p;database=d', /MSSQL_CONN: server has a port that is not a number/],
      ['server=h,1433;port=1;user=u;password=p;database=d', /port is given twice/],
      ['server=np:\\\\h\\pipe;user=u;password=p;database=d', /server uses a protocol other than tcp/],
      ['server=h;user=u;password=p;database=d;encrypt=maybe', /encrypt must be one of disable, false, true or strict/],
      [
        'server=h;user=u;password=p;database=d;trustservercertificate=2',
        /trustServerCertificate must be true or false/,
      ],
      ['server=h;user=u;password=p;database=d;timeout=0', /connection timeout must be a whole number/],
      ['server=h;user=u;pwd=p;password=q;database=d', /"password" repeats "pwd"/],
      ['server=h;user=u;password="p;database=d', /the value of "password" opens a quote that is never closed/],
      ['server=h;user=u;password="p"x;database=d', /the value of "password" has characters after its closing quote/],
      ['server=h;user=u;pass="p;database=d', /the value of the key at position 3 opens a quote that is never closed/],
      ['server=h;user=u;password=p;q;database=d', /position 4 is not key=value/],
      ['server=h\\;user=u;password=p;database=d', /server has an empty instance name/],
    ]
    for (const [raw, expected] of cases)
      assert.match(
        problems(() => parseConnectionString(raw)),
        expected,
        raw,
      )
    // Every problem is reported at once.
    const all = problems(() => parseConnectionString('nope=1;encrypt=x'))
    for (const part of [
      'an unknown key at position 1',
      'encrypt must be',
      'server is missing',
      'database is missing',
    ]) {
      assert.ok(all.includes(part), part)
    }
  })

  it('never repeats the password, in errors or in the parsed options', () => {
    const malformed = [
      `server=h;user=u;password=${secret};database=d`,
      `server=h;user=u;password=${secret}`,
      `server=h;user=u;password="${secret};database=d`,
      `server=h;user=u;pwd=x;password=${secret};database=d`,
      `server=h;user=u;password=${secret};bogus=1;database=d`,
      'server=h;user=u;password=Sup3r;Secret=x;database=d',
      'server=h;user=u;password=Sup3r;Secret="x;database=d',
    ]
    for (const raw of malformed) {
      let message = ''
      try {
        parseConnectionString(raw)
      } catch (error) {
        message = `${(error as Error).message} ${inspect(error)}`
      }
      for (const piece of ['Sup3r', 'Secret']) assert.ok(!message.includes(piece), `${raw} → ${message}`)
    }
    const ok = parseConnectionString(`server=h;user=u;password={${secret}};database=d`)
    assert.equal(ok.password, secret)
    for (const shown of [JSON.stringify(ok), inspect(ok), describeConnection(ok)]) {
      assert.ok(!shown.includes('Sup3r'), shown)
    }
    assert.equal(describeConnection(ok), 'mssql://u@h/d')
  })

  it('names an unknown key by its position, never by its text, which may be a piece of the password', () => {
    // The password Xy;prot=Secret9 was not quoted, so the split falls inside it and "prot" looks like a key, one
    // typo away from "port": neither "prot", nor "port" as a hint, nor "Secret9" may appear.
    const message = problems(() => parseConnectionString('server=h;user=u;password=Xy;prot=Secret9;database=d'))
    assert.match(message, /MSSQL_CONN: an unknown key at position 4, after an unquoted password/)
    for (const piece of ['prot', 'port', 'Secret9', 'Xy']) assert.ok(!message.includes(piece), message)
    // Also when it does not follow the password, and when its value is quoted.
    const later = problems(() => parseConnectionString('server=h;user=u;password=p;database=d;Hunter2Pw="x;y"'))
    assert.match(later, /an unknown key at position 5$/m)
    assert.ok(!later.toLowerCase().includes('hunter2pw'), later)
  })

  it('never echoes any text of the string in its errors, whatever the string (property)', () => {
    // Tokens are drawn from letters that no message contains four in a row, so any four-character run of a token
    // found in a message was copied from the input. Keys are compared lower-case, so the check is too.
    const token = fc
      .array(fc.constantFrom('q', 'x', 'z', 'j', 'Q', 'X', 'Z', 'J'), { minLength: 4, maxLength: 12 })
      .map(chars => chars.join(''))
    const part = fc.oneof(
      fc.constantFrom('server=h', 'user id=u', 'database=d', 'encrypt=true', 'pooling=true', 'password=p'),
      token.map(t => `password=${t}`),
      fc.tuple(token, token).map(([k, v]) => `${k}=${v}`),
      fc.tuple(token, token).map(([k, v]) => `${k}="${v}`),
      fc.tuple(token, token).map(([k, v]) => `${k}={${v}}x`),
      token,
    )
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 8 }), fc.constantFrom(';', '; '), (parts, sep) => {
        const raw = parts.join(sep)
        let message = ''
        try {
          parseConnectionString(raw)
          return
        } catch (error) {
          message = `${(error as Error).message} ${inspect(error)}`.toLowerCase()
        }
        for (const t of raw.toLowerCase().match(/[qxzj]{4,}/g) ?? []) {
          for (let i = 0; i + 4 <= t.length; i++) {
            assert.ok(!message.includes(t.slice(i, i + 4)), `${raw} → ${message}`)
          }
        }
      }),
      { numRuns: 500 },
    )
  })

  it('is what createStore reads, failing at start with a ConfigError', async () => {
    await assert.rejects(
      createStore({ engine: 'mssql', connectionString: `server=h;usr=sa;password=${secret};database=d` }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /MSSQL_CONN: an unknown key at position 2$/m.test(e.message) &&
        !e.message.includes('Sup3r'),
    )
    const store = await createStore({ engine: 'mssql', connectionString: 'server=h;user=u;password=p;database=d' })
    assert.equal(store.engine, 'mssql')
    await store.close()
  })
})

describe('DATABASE_URL=mssql://', () => {
  it('parses user, password, host, port, database and options', () => {
    const o = parseMssqlUrl(
      'mssql://sa:p%40ss%2Fw%3Ard@db.local:1444/events?encrypt=disable&TrustServerCertificate=true',
    )
    assert.deepEqual(fields(o), {
      server: 'db.local',
      port: 1444,
      instanceName: undefined,
      database: 'events',
      user: 'sa',
      password: 'p@ss/w:rd',
      encrypt: false,
      trustServerCertificate: true,
    })
    const named = parseMssqlUrl('mssql://u:p@db/d?instance=SQLEXPRESS&encrypt=strict&appName=x')
    assert.deepEqual(
      [named.port, named.instanceName, named.encrypt, named.appName],
      [undefined, 'SQLEXPRESS', 'strict', 'x'],
    )
    assert.equal(parseMssqlUrl('mssql://u:p@[::1]:1433/d').server, '::1')
  })

  it('fails on malformed URLs, naming the problem and never the password', async () => {
    const secret = 'Sup3rSecretPw'
    const cases: [string, RegExp][] = [
      ['mssql:///events', /DATABASE_URL: server is missing/],
      [`mssql://sa:${secret}@/events`, /DATABASE_URL: is not a valid mssql:\/\/ URL/],
      [`mssql://sa:${secret}@db`, /DATABASE_URL: database is missing/],
      ['mssql://sa@db/events', /DATABASE_URL: password is missing/],
      [`mssql://sa:${secret}@db/events?encrypt=nah`, /DATABASE_URL: encrypt must be/],
      [`mssql://sa:${secret}@db/events?user=x`, /DATABASE_URL: query parameter "user" is not accepted/],
      [`mssql://sa:${secret}@db/events?pooling=x`, /DATABASE_URL: query parameter "pooling" is not accepted/],
      [
        `mssql://sa:${secret}@db/events?encrypt=true&colour=red`,
        /DATABASE_URL: an unknown query parameter at position 2$/m,
      ],
      [`mssql://sa:${secret}@db/a/b`, /DATABASE_URL: the path must be just the database name/],
      [`mssql://sa:${secret}@db:99999/events`, /DATABASE_URL: is not a valid mssql:\/\/ URL/],
      ['mssql://sa:%E0%A4%A@db/events', /DATABASE_URL: the password has a broken %-escape/],
    ]
    for (const [raw, expected] of cases) {
      const message = problems(() => parseMssqlUrl(raw))
      assert.match(message, expected, raw)
      assert.ok(!message.includes('Sup3r'), message)
    }
    await assert.rejects(createStore({ engine: 'mssql', url: 'mssql://sa@db/events' }), ConfigError)
  })

  it('names an unknown query parameter by its position only', () => {
    // An unencoded "?" in the password moves the rest of it into the query string.
    for (const raw of ['mssql://sa:pw@db/events?encrypt=true&Hunter2Pw=1', 'mssql://sa:pw@db/events?a&Hunter2Pw']) {
      const message = problems(() => parseMssqlUrl(raw))
      assert.match(message, /DATABASE_URL: an unknown query parameter at position 2$/m, raw)
      assert.ok(!message.toLowerCase().includes('hunter2pw'), message)
    }
  })
})
