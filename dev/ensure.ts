// Makes the development services answer: the local Kafka broker (unless KAFKA_BROKERS names another cluster),
// PostgreSQL and Redis, each started with this machine's own commands when it is down.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { startLocalKafka } from './kafka/local-broker.ts'
import { postgresAnswers, redisAnswers, services } from './services.ts'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  start: () => void,
  say: (line: string) => void,
): Promise<void> {
  if (await probe()) return
  say(`${what} does not answer; starting it`)
  start()
  for (let i = 0; i < 60; i++) {
    if (await probe()) return
    await sleep(500)
  }
  throw new Error(`${what} did not answer after starting it`)
}

function startPostgres(): void {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []
  for (const v of versions) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' })
  }
}

function startRedis(): void {
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
}

/** Resolves once Kafka, PostgreSQL and Redis answer; throws saying which did not. */
export async function ensureServices(say: (line: string) => void): Promise<void> {
  if (process.env['KAFKA_BROKERS'] === undefined) {
    const result = await startLocalKafka(line => say(`kafka: ${line}`))
    say(result === 'started' ? 'started the local Kafka broker' : 'Kafka answers')
  }
  await waitFor('PostgreSQL', () => postgresAnswers(), startPostgres, say)
  say('PostgreSQL answers')
  if (services.redisCluster) {
    // A cluster is the caller's to start (dev/redis-cluster.ts): starting the local server would not make it answer.
    if (!(await redisAnswers())) throw new Error(`the Redis Cluster at ${services.redisAddr} does not answer`)
  } else {
    await waitFor('Redis', redisAnswers, startRedis, say)
  }
  say('Redis answers')
}
