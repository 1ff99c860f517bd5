// Makes the development services answer (Kafka, PostgreSQL, Redis) or says, one line per service, what to start
// or set. For each service, in order:
//   1. the one the environment names (KAFKA_BROKERS, TEST_POSTGRES_URL, REDIS_ADDR): used as it is, never started;
//   2. the one answering on the usual loopback port;
//   3. Kafka only: the local broker of dev/kafka when Java (and Maven, or its jars) is there;
//   4. dev/compose.yml, when docker compose or podman compose is there;
//   5. PostgreSQL and Redis only, as root on Debian: the machine's own service commands.
// Nothing here needs root but step 5.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { kafkaAnswers } from '../src/kafka/cluster-admin.ts'
import { composeCommand, runCompose } from './compose.ts'
import { brokerToolsMissing, startLocalKafka } from './kafka/local-broker.ts'
import { composeService, missingLine, type ServiceName, type Situation, stepFor, variables } from './service-plan.ts'
import { postgresProblem, redisAnswers, services } from './services.ts'

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** Where the tests look for each service, for the messages. */
export function addressOf(service: ServiceName): string {
  if (service === 'Kafka') return services.kafkaBrokers.join(',')
  if (service === 'Redis') return services.redisAddr
  const url = new URL(services.postgresAdminUrl)
  return `${url.hostname}:${url.port || 5432} as ${decodeURIComponent(url.username) || 'the OS user'}`
}

/** The variable that names `service`'s address, when one does (a Redis Cluster is always named: REDIS_CLUSTER). */
function namedBy(service: ServiceName): string | undefined {
  if (service === 'Redis' && services.redisCluster) return 'REDIS_ADDR'
  return (process.env[variables[service]] ?? '') === '' ? undefined : variables[service]
}

const isDebianRoot = () => process.getuid?.() === 0 && existsSync('/etc/debian_version')

function startDebianPostgres(): void {
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : []
  for (const v of versions) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start'], { stdio: 'inherit' })
  }
}

function startDebianRedis(): void {
  // Debian's redis-server package owns /var/lib/redis and /var/log/redis.
  spawnSync(
    'redis-server',
    [
      ...['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379'],
      ...['--save', '', '--appendonly', 'no', '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'],
    ],
    { stdio: 'inherit' },
  )
}

/** Why each service cannot be used now (undefined: it answers). */
async function probe(service: ServiceName): Promise<string | undefined> {
  if (service === 'PostgreSQL') return postgresProblem()
  if (service === 'Redis') return (await redisAnswers()) ? undefined : 'no PONG'
  const ok = await kafkaAnswers(
    { clientId: 'event-pipeline-tests', bootstrapBrokers: [...services.kafkaBrokers] },
    2000,
  )
  return ok ? undefined : 'no answer to a metadata request'
}

/** Probes `service` every second until it answers (undefined) or `timeoutMs` passed (why it does not answer). */
export async function waitFor(service: ServiceName, timeoutMs: number): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs
  let why = await probe(service)
  while (why !== undefined && Date.now() < deadline) {
    await sleep(1000)
    why = await probe(service)
  }
  return why
}

/**
 * Resolves once Kafka, PostgreSQL and Redis answer, starting what the order above allows; otherwise throws an
 * error whose message has one line per service that cannot be had.
 */
export async function ensureServices(say: (line: string) => void): Promise<void> {
  const all: ServiceName[] = ['Kafka', 'PostgreSQL', 'Redis']
  const problems = new Map<ServiceName, string | undefined>()
  await Promise.all(all.map(async s => problems.set(s, await probe(s))))
  const needed = all.filter(s => problems.get(s) !== undefined)
  const compose = needed.length > 0 ? composeCommand() : undefined
  const situations = all.map(
    (service): Situation => ({
      service,
      answers: problems.get(service) === undefined,
      named: namedBy(service),
      localKafka: service === 'Kafka' && needed.includes('Kafka') && brokerToolsMissing() === undefined,
      compose: compose !== undefined,
      debianRoot: isDebianRoot(),
    }),
  )
  const missing: string[] = []
  const started: Situation[] = []
  const viaCompose = situations.filter(s => stepFor(s) === 'compose')
  if (compose !== undefined && viaCompose.length > 0) {
    say(`starting ${viaCompose.map(s => s.service).join(', ')} with ${compose.join(' ')} -f dev/compose.yml`)
    try {
      runCompose(compose, ['up', '-d', ...viaCompose.map(s => composeService[s.service])])
      started.push(...viaCompose)
    } catch (error) {
      for (const s of viaCompose) missing.push(`${s.service}: ${(error as Error).message}`)
    }
  }
  for (const s of situations) {
    const step = stepFor(s)
    if (step === 'ready') say(`${s.service} answers at ${addressOf(s.service)}`)
    else if (step === 'missing') missing.push(missingLine(s, addressOf(s.service), problems.get(s.service)))
    else if (step === 'local-kafka') {
      try {
        await startLocalKafka(line => say(`kafka: ${line}`))
        say('started the local Kafka broker')
      } catch (error) {
        missing.push(`Kafka: the local broker did not start: ${(error as Error).message.split('\n')[0]}`)
      }
    } else if (step === 'debian') {
      say(`${s.service} does not answer; starting it with this machine's service commands`)
      if (s.service === 'PostgreSQL') startDebianPostgres()
      else startDebianRedis()
      started.push(s)
    }
  }
  for (const s of started) {
    const why = await waitFor(s.service, 120_000)
    if (why === undefined) say(`${s.service} answers at ${addressOf(s.service)}`)
    else missing.push(`${s.service}: started, but nothing answers at ${addressOf(s.service)} after 120 s (${why})`)
  }
  if (missing.length > 0) throw new Error(missing.join('\n'))
}
