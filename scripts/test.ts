// `npm test`: type check, lint, make sure Kafka, PostgreSQL and Redis answer (starting the ones that are
// down with this machine's commands), then run every test under test/ with node:test.
//   node scripts/test.ts [--no-checks] [--no-services] [test files or globs…]
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { Redis } from 'ioredis'
import pg from 'pg'
import { startLocalKafka } from './kafka/local-broker.ts'

const args = process.argv.slice(2)
const flags = new Set(args.filter(a => a.startsWith('--')))
const files = args.filter(a => !a.startsWith('--'))
const say = (line: string) => console.log(`test: ${line}`)
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

function run(command: string, commandArgs: string[]): void {
  const r = spawnSync(command, commandArgs, { stdio: 'inherit' })
  if (r.status !== 0) {
    say(`${command} ${commandArgs.join(' ')} failed`)
    process.exit(r.status ?? 1)
  }
}

async function waitFor(what: string, probe: () => Promise<boolean>, start: () => void): Promise<void> {
  if (await probe()) return
  say(`${what} does not answer; starting it`)
  start()
  for (let i = 0; i < 60; i++) {
    if (await probe()) return
    await sleep(500)
  }
  throw new Error(`${what} did not answer after starting it`)
}

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({
    connectionString: process.env['TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    connectionTimeoutMillis: 2000,
  })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

async function redisAnswers(): Promise<boolean> {
  const [host, port] = (process.env['REDIS_ADDR'] ?? '127.0.0.1:6379').split(':')
  const redis = new Redis({
    host,
    port: Number(port),
    password: process.env['REDIS_PASSWORD'] || undefined,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  redis.on('error', () => {})
  try {
    await redis.connect()
    return (await redis.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    redis.disconnect()
  }
}

async function ensureServices(): Promise<void> {
  if (process.env['KAFKA_BROKERS'] === undefined) {
    const result = await startLocalKafka(line => say(`kafka: ${line}`))
    say(result === 'started' ? 'started the local Kafka broker' : 'Kafka answers')
  }
  await waitFor('PostgreSQL', postgresAnswers, () => {
    const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []
    for (const v of versions) {
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' })
    }
  })
  say('PostgreSQL answers')
  await waitFor('Redis', redisAnswers, () => {
    spawnSync(
      'redis-server',
      [
        '--daemonize',
        'yes',
        '--bind',
        '127.0.0.1',
        '-::1',
        '--port',
        '6379',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        '/var/lib/redis',
        '--logfile',
        '/var/log/redis/ci.log',
      ],
      { stdio: 'inherit' },
    )
  })
  say('Redis answers')
}

const started = Date.now()
if (!flags.has('--no-checks')) {
  say('type check (tsc --noEmit)')
  run('npx', ['tsc', '--noEmit'])
  say('lint (biome check)')
  run('npx', ['biome', 'check', '.'])
}
if (!flags.has('--no-services')) {
  try {
    await ensureServices()
  } catch (error) {
    say((error as Error).message)
    process.exit(1)
  }
}
const testArgs = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  // A folder stands for every test file under it.
  ...(files.length > 0 ? files : ['test']).map(f =>
    existsSync(f) && statSync(f).isDirectory() ? `${f.replace(/\/$/, '')}/**/*.test.ts` : f,
  ),
]
say(`node ${testArgs.join(' ')}`)
const result = spawnSync(process.execPath, testArgs, { stdio: 'inherit' })
say(`finished in ${((Date.now() - started) / 1000).toFixed(0)} s`)
process.exit(result.status ?? 1)
