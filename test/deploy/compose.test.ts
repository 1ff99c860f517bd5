// deploy/ checked against the code it deploys: every variable the compose file gives a role is one the config
// module reads, every role listens, publishes, is health-checked and scraped on its configured port, every
// long-running service has a health check, the image, Prometheus and Grafana files agree with each other, and the
// deployment is safe by default (exposure.ts: loopback ports, no default passwords, no role logged in as sa;
// least-privilege SQL logins, Redis and Grafana passwords).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loadConfig, type Role, spec } from '../../src/config/index.ts'
import { parseConnectionString } from '../../src/store/mssql/connection-string.ts'
import { databaseCollation } from '../../src/store/mssql/driver.ts'
import {
  exposureProblems,
  interpolate,
  interpolations,
  parseYaml,
  safetyProblems,
  sampleEnvironment,
  sampleValue,
  saProblems,
  secretProblems,
  type Yaml,
} from './exposure.ts'

const root = new URL('../../', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

type Node = { [key: string]: Yaml }
const asMap = (value: Yaml | undefined, what: string): Node => {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is a mapping`)
  return value as Node
}
const asList = (value: Yaml | undefined, what: string): Yaml[] => {
  assert.ok(Array.isArray(value), `${what} is a list`)
  return value
}

const composeText = read('deploy/docker-compose.yml')
const compose = asMap(parseYaml(composeText), 'the compose file')
const services = asMap(compose['services'], 'services')
const service = (name: string) => asMap(services[name], name)
const prometheus = asMap(parseYaml(read('deploy/prometheus.yml')), 'prometheus.yml')

const roles: readonly Role[] = ['producer', 'consumer', 'api']
/** Services run from the pipeline's image: the three roles and the one-shot schema migration. */
const pipelineServices = [...roles, 'migrate'] as const
const names: ReadonlySet<string> = new Set(Object.values(spec).map(v => v.name))
const rolePort: Record<Role, string> = { producer: 'PRODUCER_PORT', consumer: 'CONSUMER_PORT', api: 'API_PORT' }

/** What the operator's deploy/.env gives: a sample value for every variable the file requires. */
const operatorEnv = sampleEnvironment(composeText)

/** A service's environment as compose hands it over, with operatorEnv as the shell's environment. */
function environment(name: string): Record<string, string> {
  const env = asMap(service(name)['environment'] ?? {}, `${name}.environment`)
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => {
      assert.equal(typeof value, 'string', `${name}.${key} is quoted, so YAML cannot turn it into a number`)
      return [key, interpolate(value as string, operatorEnv)]
    }),
  )
}

/** Long-running services; the one-shot ones run once and exit, and others wait for their success. */
const oneShot = (name: string) => service(name)['restart'] === 'no'

function healthcheck(name: string): string[] {
  const check = asMap(service(name)['healthcheck'], `${name}.healthcheck`)
  const test = asList(check['test'], `${name}.healthcheck.test`)
  assert.ok(test[0] === 'CMD' || test[0] === 'CMD-SHELL', `${name}: healthcheck runs a command`)
  return test.map(String)
}

describe('deploy/docker-compose.yml', () => {
  it('runs Kafka in KRaft mode (no ZooKeeper), SQL Server 2022, Redis, the three roles, Prometheus and Grafana', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'alertmanager',
      'api',
      'consumer',
      'grafana',
      'kafka',
      'migrate',
      'mssql',
      'mssql-init',
      'producer',
      'prometheus',
      'redis',
    ])
    assert.match(String(service('kafka')['image']), /^apache\/kafka:/)
    assert.equal(environment('kafka')['KAFKA_PROCESS_ROLES'], 'broker,controller')
    assert.ok(!read('deploy/docker-compose.yml').toLowerCase().includes('zookeeper_connect'))
    // SQL Server 2022 at one cumulative update, the same image for the server and the one-shot init.
    assert.match(String(service('mssql')['image']), /^mcr\.microsoft\.com\/mssql\/server:2022-CU\d+-ubuntu-\d+\.\d+$/)
    assert.equal(service('mssql-init')['image'], service('mssql')['image'])
    assert.ok(
      healthcheck('mssql').some(part => part.includes('sqlcmd')),
      'SQL Server is checked with sqlcmd',
    )
    assert.match(String(service('redis')['image']), /^redis:/)
  })

  it('gives every long-running service a health check, and has the others waited for until they succeed', () => {
    const awaited = new Set<string>()
    for (const name of Object.keys(services)) {
      for (const [dependency, condition] of Object.entries(asMap(service(name)['depends_on'] ?? {}, name))) {
        assert.ok(dependency in services, `${name} depends on ${dependency}, a service of the file`)
        const expected = oneShot(dependency) ? 'service_completed_successfully' : 'service_healthy'
        assert.deepEqual(condition, { condition: expected }, `${name} waits for ${dependency}`)
        awaited.add(dependency)
      }
    }
    for (const name of Object.keys(services)) {
      if (oneShot(name)) {
        assert.ok(awaited.has(name), `one-shot ${name} is waited for`)
        continue
      }
      const check = asMap(service(name)['healthcheck'], `${name}.healthcheck`)
      assert.ok(healthcheck(name).length > 1, name)
      for (const key of ['interval', 'timeout', 'retries']) assert.ok(key in check, `${name}.healthcheck.${key}`)
    }
  })

  it('builds each role from deploy/Dockerfile and sets only variables the config module reads', () => {
    for (const role of pipelineServices) {
      assert.deepEqual(service(role)['build'], { context: '..', dockerfile: 'deploy/Dockerfile' }, role)
      assert.deepEqual(service(role)['command'], [role])
      for (const key of Object.keys(environment(role))) {
        assert.ok(names.has(key), `${role}: ${key} is not a variable of src/config/spec.ts`)
        const v = Object.values(spec).find(s => s.name === key)!
        const readers = 'roles' in v ? (v.roles as readonly Role[]) : roles
        // `pipeline migrate` reads the store's variables, those of the roles that have a store.
        const reads = role === 'migrate' ? readers.includes('consumer') : readers.includes(role)
        assert.ok(reads, `${role} does not read ${key}`)
      }
      // The values themselves are valid: the config module loads them as the role would.
      assert.doesNotThrow(() => loadConfig(environment(role)), role)
    }
  })

  it('has each role listen, publish, health-check and get scraped on its port', () => {
    const targets = asList(prometheus['scrape_configs'], 'scrape_configs').flatMap(job =>
      asList(asMap(job, 'job')['static_configs'], 'static_configs').flatMap(c =>
        asList(asMap(c, 'static_config')['targets'], 'targets'),
      ),
    )
    for (const role of roles) {
      const env = environment(role)
      const port = loadConfig(env).portOf(role, true)
      // The seed's ports: the role's own default (8080, 8081, 8082), which SERVICE_PORT may only repeat.
      const byRole = Object.values(spec).find(v => v.name === rolePort[role])!
      assert.equal(String(port), byRole.default, `${role} listens on its default port`)
      assert.ok(
        asList(service(role)['ports'], `${role}.ports`).includes(`127.0.0.1:${port}:${port}`),
        `${role} publishes ${port}`,
      )
      assert.ok(
        healthcheck(role).some(part => part.includes(`http://127.0.0.1:${port}/health`)),
        `${role} checks /health on ${port}`,
      )
      assert.ok(targets.includes(`${role}:${port}`), `Prometheus scrapes ${role}:${port}`)
    }
    assert.equal(targets.length, roles.length)
  })

  it('points the roles at the services of the file', () => {
    const internal = /INTERNAL:\/\/kafka:(\d+)/.exec(environment('kafka')['KAFKA_ADVERTISED_LISTENERS'] ?? '')?.[1]
    for (const role of ['producer', 'consumer'] as const) {
      assert.equal(environment(role)['KAFKA_BROKERS'], `kafka:${internal}`)
      assert.equal(environment(role)['KAFKA_AUTOSTART'], 'false', 'no local broker inside a container')
      assert.equal(environment(role)['REDIS_ADDR'], 'redis:6379')
    }
    for (const role of ['consumer', 'api'] as const) {
      const config = loadConfig(environment(role))
      assert.equal(config.database.engine, 'mssql')
      const conn = parseConnectionString(environment(role)['MSSQL_CONN'] ?? '')
      assert.deepEqual([conn.server, conn.database, conn.encrypt], ['mssql', 'events', false])
      const dependsOn = asMap(service(role)['depends_on'], `${role}.depends_on`)
      assert.ok('migrate' in dependsOn, `${role} starts once the schema is made`)
    }
    assert.ok('mssql-init' in asMap(service('migrate')['depends_on'], 'migrate.depends_on'), 'logins first')
    assert.ok('mssql' in asMap(service('mssql-init')['depends_on'], 'mssql-init.depends_on'))
    for (const role of ['producer', 'consumer'] as const) {
      assert.equal(loadConfig(environment(role)).redisPassword, environment('redis')['REDISCLI_AUTH'], role)
    }
  })
})

/** init.sql's logins: name → the variable its password comes from, and the database roles granted to it. */
/** The text the compose file writes for a required variable: dollar, brace, NAME:?set NAME, brace. */
const required = (name: string) => `\${${name}:?set ${name}}`

function sqlLogins(sql: string): Map<string, { variable: string; roles: string[] }> {
  const logins = new Map<string, { variable: string; roles: string[] }>()
  for (const m of sql.matchAll(/CREATE LOGIN (\w+) WITH PASSWORD = N'\$\((\w+)\)'/g)) {
    logins.set(m[1]!, { variable: m[2]!, roles: [] })
  }
  for (const m of sql.matchAll(/\bALTER ROLE (\w+) ADD MEMBER (\w+);/g)) logins.get(m[2]!)?.roles.push(m[1]!)
  return logins
}

describe('deploy/docker-compose.yml is safe by default', () => {
  const initSql = read('deploy/mssql/init.sql')

  it('publishes every port on 127.0.0.1 only, requires every password, and no role logs in as sa', () => {
    assert.deepEqual(safetyProblems(composeText), [])
    assert.ok(interpolations(composeText).length > 0, 'the passwords come from variables')
  })

  it('catches a port published on every interface', () => {
    for (const [from, to] of [
      ['"127.0.0.1:9092:9092"', '"9092:9092"'],
      ['"127.0.0.1:1433:1433"', '"0.0.0.0:1433:1433"'],
      ['"127.0.0.1:8082:8082"', '"8082"'],
    ] as const) {
      const broken = composeText.replace(from, to)
      assert.notEqual(broken, composeText, from)
      assert.match(exposureProblems(parseYaml(broken)).join('\n'), /is not published on 127\.0\.0\.1 only/, to)
    }
  })

  it('catches a password with a default, a literal password and a password that may be empty', () => {
    const cases: [string, string, RegExp][] = [
      [required('MSSQL_SA_PASSWORD'), `\${MSSQL_SA_PASSWORD:-Your_strong_pwd1}`, /must be required/],
      [required('REDIS_PASSWORD'), `\${REDIS_PASSWORD}`, /must be required/],
      [`"${required('GRAFANA_ADMIN_PASSWORD')}"`, '"admin"', /GF_SECURITY_ADMIN_PASSWORD is not/],
      [`password={${required('MSSQL_API_PASSWORD')}}`, 'password=Your_strong_pwd1', /api: the password in MSSQL_CONN/],
      // Unquoted, a password holding ";" is cut short: what the role would send is not what the login has.
      [
        `password={${required('MSSQL_CONSUMER_PASSWORD')}}`,
        `password=${required('MSSQL_CONSUMER_PASSWORD')}`,
        /consumer: the password in MSSQL_CONN/,
      ],
    ]
    for (const [from, to, expected] of cases) {
      const broken = composeText.replace(from, to)
      assert.notEqual(broken, composeText, from)
      assert.match(secretProblems(broken, parseYaml(broken)).join('\n'), expected, to)
    }
    const noRequirepass = composeText.replace(
      `"--requirepass", "${required('REDIS_PASSWORD')}"`,
      '"--requirepass", "changeme"',
    )
    assert.match(secretProblems(noRequirepass, parseYaml(noRequirepass)).join('\n'), /--requirepass/)
  })

  it('catches a role that logs in as sa', () => {
    for (const [from, to] of [
      ['user id=pipeline_api;', 'user id=sa;'],
      ['user id=pipeline_consumer;', 'user id=SA;'],
      ['user id=pipeline_migrate;', ''],
    ] as const) {
      const broken = composeText.replace(from, to)
      assert.notEqual(broken, composeText, from)
      assert.match(saProblems(broken, parseYaml(broken)).join('\n'), /logs in as sa/, to)
    }
  })

  it('gives each role its own login, with the password mssql-init sets for it', () => {
    const logins = sqlLogins(initSql)
    const init = environment('mssql-init')
    const expected = { migrate: 'pipeline_migrate', consumer: 'pipeline_consumer', api: 'pipeline_api' } as const
    for (const [role, login] of Object.entries(expected)) {
      const conn = parseConnectionString(environment(role)['MSSQL_CONN'] ?? '')
      assert.equal(conn.user, login, role)
      const variable = logins.get(login)?.variable
      assert.ok(variable !== undefined, `init.sql creates ${login}`)
      // The sample value holds ";", "=" and "{": equal only when the connection string quotes it whole.
      assert.equal(init[variable], sampleValue(variable), `mssql-init receives ${variable}`)
      assert.equal(conn.password, init[variable], `${role} logs in with ${variable}`)
    }
    assert.deepEqual([...logins.keys()].sort(), Object.values(expected).sort())
  })

  it('lets the read API only read, the consumer only read and write rows, and only the owner change the schema', () => {
    const logins = sqlLogins(initSql)
    assert.deepEqual(logins.get('pipeline_api')?.roles, ['db_datareader'])
    assert.deepEqual(logins.get('pipeline_consumer')?.roles.sort(), ['db_datareader', 'db_datawriter'])
    assert.deepEqual(logins.get('pipeline_migrate')?.roles, [], 'the owner needs no role: it is dbo')
    assert.match(initSql, /^\s*ALTER AUTHORIZATION ON DATABASE::events TO pipeline_migrate;/m)
    // No other way to a right: no GRANT, no server role, no sa-like login.
    assert.doesNotMatch(initSql, /^\s*(GRANT|ALTER SERVER ROLE|EXEC sp_addsrvrolemember)\b/im)
    // The database has the collation the pipeline would give it (src/store/mssql/driver.ts).
    assert.equal(/CREATE DATABASE events COLLATE (\w+);/.exec(initSql)?.[1], databaseCollation)
    const init = service('mssql-init')
    assert.equal(init['image'], service('mssql')['image'], 'mssql-init uses the sqlcmd of the SQL Server image')
    const mounts = asList(init['volumes'], 'mssql-init.volumes').map(String)
    for (const file of ['init.sh', 'init.sql']) {
      assert.ok(mounts.includes(`./mssql/${file}:/deploy/${file}:ro`), file)
    }
    assert.deepEqual(init['entrypoint'], ['/bin/bash', '/deploy/init.sh'])
  })

  it('has mssql-init refuse a password it cannot quote, naming the variable and never the value', () => {
    const script = fileURLToPath(new URL('deploy/mssql/init.sh', root))
    const base = { PATH: process.env['PATH'] ?? '', ...environment('mssql-init') }
    for (const bad of ["Bad'Quote9x", 'Bad}Brace9x']) {
      const r = spawnSync('bash', [script], { encoding: 'utf8', env: { ...base, MSSQL_API_PASSWORD: bad } })
      assert.equal(r.status, 1, r.stderr)
      assert.match(r.stderr, /MSSQL_API_PASSWORD contains ' or }/)
      assert.ok(!r.stderr.includes(bad) && !r.stdout.includes(bad), r.stderr)
    }
    const missing = spawnSync('bash', [script], { encoding: 'utf8', env: { ...base, MSSQL_CONSUMER_PASSWORD: '' } })
    assert.match(missing.stderr, /MSSQL_CONSUMER_PASSWORD is not set/)
    // With good values it gets past its checks to sqlcmd, which exists only in the SQL Server image.
    const good = spawnSync('bash', [script], { encoding: 'utf8', env: base })
    assert.doesNotMatch(good.stderr, /mssql-init:/)
  })

  it('requires a Redis password and gives it to the roles that use Redis', () => {
    assert.deepEqual(asList(service('redis')['command'], 'redis.command').slice(0, 2), [
      'redis-server',
      '--requirepass',
    ])
    const password = interpolate(String(asList(service('redis')['command'], 'redis.command')[2]), operatorEnv)
    assert.equal(password, sampleValue('REDIS_PASSWORD'))
    assert.equal(environment('redis')['REDISCLI_AUTH'], password, 'the health check authenticates')
    for (const role of ['producer', 'consumer']) assert.equal(environment(role)['REDIS_PASSWORD'], password, role)
  })

  it('gives Grafana an admin password and no anonymous access', () => {
    const env = environment('grafana')
    assert.equal(env['GF_SECURITY_ADMIN_PASSWORD'], sampleValue('GRAFANA_ADMIN_PASSWORD'))
    assert.equal(env['GF_AUTH_ANONYMOUS_ENABLED'], 'false')
    assert.notEqual(env['GF_USERS_ALLOW_SIGN_UP'], 'true')
  })

  it('stops before starting anything when a password variable is missing', () => {
    for (const name of Object.keys(operatorEnv)) {
      const { [name]: _, ...rest } = operatorEnv
      assert.throws(() => interpolate(composeText, rest), new RegExp(`${name}: set ${name}`))
    }
    assert.deepEqual(Object.keys(operatorEnv).sort(), [
      'ADMIN_TOKEN',
      'ALERTMANAGER_WEBHOOK_URL',
      'GRAFANA_ADMIN_PASSWORD',
      'MSSQL_API_PASSWORD',
      'MSSQL_CONSUMER_PASSWORD',
      'MSSQL_MIGRATE_PASSWORD',
      'MSSQL_SA_PASSWORD',
      'REDIS_PASSWORD',
    ])
    const example = read('deploy/env.example')
    for (const name of Object.keys(operatorEnv)) assert.match(example, new RegExp(`^${name}=$`, 'm'), name)
    assert.ok(read('deploy/.gitignore').split('\n').includes('.env'), 'deploy/.env stays out of git')
  })
})

describe('deploy/Dockerfile and its companions', () => {
  it('builds a node:24 slim image, of the Node release the tests run on, that runs the bundle alone, as a non-root user', () => {
    const dockerfile = read('deploy/Dockerfile')
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1])
    // The `node` devDependency as locked: what `npm test` and `npm start` run (npx node --version).
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string }> }
    const tested = lock.packages['node_modules/node']?.version
    assert.match(tested ?? '', /^24\.\d+\.\d+$/)
    assert.ok(from.length > 0 && from.every(image => image === `node:${tested}-slim`), from.join(', '))
    // The build stage compiles dist/ (scripts/build.ts); the image is the last stage: the bundle and the files it
    // reads, no node_modules and no development code.
    assert.match(dockerfile, /^RUN node scripts\/build\.ts$/m)
    const image = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
    assert.match(image, /^COPY --from=build \/app\/dist \.\/dist$/m)
    assert.doesNotMatch(image, /node_modules|npm /)
    assert.doesNotMatch(image, /^COPY .*\b(dev|bench|test|scripts)\b/m)
    // The roles listen on 127.0.0.1 by default, which a published port cannot reach inside a container.
    assert.match(image, /^ENV HOST=0\.0\.0\.0$/m)
    for (const role of pipelineServices)
      assert.equal(environment(role)['HOST'], undefined, `${role} keeps the image's HOST`)
    const user = image.search(/^USER node$/m)
    assert.ok(user !== -1 && user < image.search(/^ENTRYPOINT /m), 'USER node before ENTRYPOINT')
    // node, the pipeline's Node flags (test/cli/node-flags.test.ts checks which), the bundle; the role is the command.
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? '[]') as string[]
    assert.equal(entrypoint[0], 'node')
    assert.equal(entrypoint.at(-1), 'dist/main.js')
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of m[1]!.split(' ')) assert.ok(existsSync(new URL(source, root)), `COPY ${source} exists`)
    }
    const ignored = read('deploy/Dockerfile.dockerignore').split('\n')
    // Development tooling (dev/, bench/, test/, scripts/ but the build script) stays out of the build context.
    for (const entry of ['node_modules', '.git', 'dev', 'bench', 'test', 'scripts', '!scripts/build.ts', 'dist'])
      assert.ok(ignored.includes(entry), entry)
  })

  it('provisions Grafana with a dashboard of the main metrics on the Prometheus it scrapes', () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboard.json')) as {
      panels: { datasource: { uid: string }; targets: { expr: string }[] }[]
    }
    const exprs = dashboard.panels.flatMap(p => p.targets.map(t => t.expr)).join('\n')
    for (const metric of [
      'events_produced_total',
      'messages_processed_total',
      'dlq_count_total',
      'db_latency_seconds_bucket',
      'http_latency_seconds_bucket',
      'consumer_lag',
    ]) {
      assert.ok(exprs.includes(metric), metric)
    }
    const datasources = asMap(parseYaml(read('deploy/grafana/provisioning/datasources/prometheus.yml')), 'ds')
    const [source] = asList(datasources['datasources'], 'datasources').map(d => asMap(d, 'datasource'))
    assert.equal(source?.['url'], 'http://prometheus:9090')
    for (const panel of dashboard.panels) assert.equal(panel.datasource.uid, source?.['uid'])
    const provider = asMap(parseYaml(read('deploy/grafana/provisioning/dashboards/pipeline.yml')), 'provider')
    const path = asMap(asMap(asList(provider['providers'], 'providers')[0], 'provider')['options'], 'options')['path']
    const mounts = asList(service('grafana')['volumes'], 'grafana.volumes').map(String)
    assert.ok(
      mounts.some(m => m.startsWith(`./grafana/dashboard.json:${path}/`)),
      'the dashboard is where Grafana looks',
    )
  })
})

describe('reading the deploy files', () => {
  it('refuses a duplicate key, which compose refuses too, instead of keeping one of the two', () => {
    assert.throws(() => parseYaml('services:\n  api:\n    image: a\n  api:\n    image: b\n'), /unique/)
  })

  it('refuses a tag it does not know instead of reading the tagged text as a plain string', () => {
    assert.throws(() => parseYaml('a: !custom 1\n'), /tag/i)
  })
})
