// deploy/ checked against the code it deploys: every variable the compose file gives a role is one the config
// module reads, every role listens, publishes, is health-checked and scraped on its configured port, every service
// has a health check, and the image, Prometheus and Grafana files agree with each other.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { loadConfig, type Role, spec } from '../../src/config/index.ts'
import { parseConnectionString } from '../../src/store/mssql/connection-string.ts'
import { parseYamlSubset, type Yaml, YamlSubsetError } from './yaml-subset.ts'

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

const compose = asMap(parseYamlSubset(read('deploy/docker-compose.yml')), 'the compose file')
const services = asMap(compose['services'], 'services')
const service = (name: string) => asMap(services[name], name)
const prometheus = asMap(parseYamlSubset(read('deploy/prometheus.yml')), 'prometheus.yml')

const roles: readonly Role[] = ['producer', 'consumer', 'api']
const names: ReadonlySet<string> = new Set(Object.values(spec).map(v => v.name))
const rolePort: Record<Role, string> = { producer: 'PRODUCER_PORT', consumer: 'CONSUMER_PORT', api: 'API_PORT' }

/** Compose's interpolation as the file uses it: ${VAR:-default} with VAR unset, and $$ for a literal $. */
const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replaceAll('$$', '$')

function environment(name: string): Record<string, string> {
  const env = asMap(service(name)['environment'] ?? {}, `${name}.environment`)
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => {
      assert.equal(typeof value, 'string', `${name}.${key} is quoted, so YAML cannot turn it into a number`)
      return [key, interpolate(value as string)]
    }),
  )
}

function healthcheck(name: string): string[] {
  const check = asMap(service(name)['healthcheck'], `${name}.healthcheck`)
  const test = asList(check['test'], `${name}.healthcheck.test`)
  assert.ok(test[0] === 'CMD' || test[0] === 'CMD-SHELL', `${name}: healthcheck runs a command`)
  return test.map(String)
}

describe('deploy/docker-compose.yml', () => {
  it('runs Kafka in KRaft mode (no ZooKeeper), SQL Server 2022, Redis, the three roles, Prometheus and Grafana', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'api',
      'consumer',
      'grafana',
      'kafka',
      'mssql',
      'producer',
      'prometheus',
      'redis',
    ])
    assert.match(String(service('kafka')['image']), /^apache\/kafka:/)
    assert.equal(environment('kafka')['KAFKA_PROCESS_ROLES'], 'broker,controller')
    assert.ok(!read('deploy/docker-compose.yml').toLowerCase().includes('zookeeper_connect'))
    assert.equal(service('mssql')['image'], 'mcr.microsoft.com/mssql/server:2022-latest')
    assert.ok(
      healthcheck('mssql').some(part => part.includes('sqlcmd')),
      'SQL Server is checked with sqlcmd',
    )
    assert.match(String(service('redis')['image']), /^redis:/)
  })

  it('gives every service a health check', () => {
    for (const name of Object.keys(services)) {
      const check = asMap(service(name)['healthcheck'], `${name}.healthcheck`)
      assert.ok(healthcheck(name).length > 1, name)
      for (const key of ['interval', 'timeout', 'retries']) assert.ok(key in check, `${name}.healthcheck.${key}`)
    }
  })

  it('builds each role from deploy/Dockerfile and sets only variables the config module reads', () => {
    for (const role of roles) {
      assert.deepEqual(service(role)['build'], { context: '..', dockerfile: 'deploy/Dockerfile' }, role)
      assert.deepEqual(service(role)['command'], [role])
      for (const key of Object.keys(environment(role))) {
        assert.ok(names.has(key), `${role}: ${key} is not a variable of src/config/spec.ts`)
        const v = Object.values(spec).find(s => s.name === key)!
        const readers = 'roles' in v ? (v.roles as readonly Role[]) : roles
        assert.ok(readers.includes(role), `${role} does not read ${key}`)
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
        asList(service(role)['ports'], `${role}.ports`).includes(`${port}:${port}`),
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
      assert.deepEqual([conn.server, conn.user, conn.database, conn.encrypt], ['mssql', 'sa', 'events', false])
      assert.equal(conn.password, environment('mssql')['MSSQL_SA_PASSWORD'])
      const dependsOn = asMap(service(role)['depends_on'], `${role}.depends_on`)
      assert.deepEqual(dependsOn['mssql'], { condition: 'service_healthy' }, `${role} waits for SQL Server`)
    }
  })
})

describe('deploy/Dockerfile and its companions', () => {
  it('builds a node:24-slim image with production dependencies only, run by a non-root user', () => {
    const dockerfile = read('deploy/Dockerfile')
    const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1])
    assert.ok(from.length > 0 && from.every(image => image === 'node:24-slim'), from.join(', '))
    assert.match(dockerfile, /^RUN npm ci --omit=dev\b/m)
    const user = dockerfile.search(/^USER node$/m)
    assert.ok(user !== -1 && user < dockerfile.search(/^ENTRYPOINT /m), 'USER node before ENTRYPOINT')
    // node, the pipeline's Node flags (test/cli/node-flags.test.ts checks which), main.ts; the role is the command.
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? '[]') as string[]
    assert.equal(entrypoint[0], 'node')
    assert.equal(entrypoint.at(-1), 'src/cli/main.ts')
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of m[1]!.split(' ')) assert.ok(existsSync(new URL(source, root)), `COPY ${source} exists`)
    }
    const ignored = read('deploy/Dockerfile.dockerignore').split('\n')
    for (const entry of ['node_modules', '.git', 'scripts/kafka/.cache']) assert.ok(ignored.includes(entry), entry)
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
    const datasources = asMap(parseYamlSubset(read('deploy/grafana/provisioning/datasources/prometheus.yml')), 'ds')
    const [source] = asList(datasources['datasources'], 'datasources').map(d => asMap(d, 'datasource'))
    assert.equal(source?.['url'], 'http://prometheus:9090')
    for (const panel of dashboard.panels) assert.equal(panel.datasource.uid, source?.['uid'])
    const provider = asMap(parseYamlSubset(read('deploy/grafana/provisioning/dashboards/pipeline.yml')), 'provider')
    const path = asMap(asMap(asList(provider['providers'], 'providers')[0], 'provider')['options'], 'options')['path']
    const mounts = asList(service('grafana')['volumes'], 'grafana.volumes').map(String)
    assert.ok(
      mounts.some(m => m.startsWith(`./grafana/dashboard.json:${path}/`)),
      'the dashboard is where Grafana looks',
    )
  })
})

describe('the YAML subset parser', () => {
  it('reads block mappings, lists, JSON scalars and plain scalars', () => {
    assert.deepEqual(parseYamlSubset('a:\n  - "x"\n  - k: 1\n    j: [2, "y"]\nb: true\nc:\n'), {
      a: ['x', { k: 1, j: [2, 'y'] }],
      b: true,
      c: null,
    })
  })

  it('refuses what it does not understand instead of misreading it', () => {
    for (const source of [
      'a: &anchor 1',
      'a: |\n  text',
      "a: 'single'",
      'a: 1 # comment',
      'a:\n   b: 1',
      'a:\n\tb: 1',
      'a: 1\na: 2',
      'a:\n  - x\n  b: 1',
      'a: b: c',
    ]) {
      assert.throws(() => parseYamlSubset(source), YamlSubsetError, source)
    }
  })
})
