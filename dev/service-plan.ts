// How `npm test` gets each development service (dev/ensure.ts does it): a decision from what is known of the
// machine, and the one line that says what to start or set when nothing will do. Pure, for unit tests.
import type { ComposeService } from './compose.ts'

/**
 * The PostgreSQL of dev/compose.yml, as postgres with its password: the tests' default. Also right for a loopback
 * server that trusts postgres without a password, as the client sends the password only when asked for one.
 */
export const defaultPostgresUrl = 'postgres://postgres:pipeline-dev@127.0.0.1:5432/postgres'

export type ServiceName = 'Kafka' | 'PostgreSQL' | 'Redis'
export type Step = 'ready' | 'local-kafka' | 'compose' | 'debian' | 'missing'

/** What is known of one service before anything is started. */
export interface Situation {
  readonly service: ServiceName
  readonly answers: boolean
  /** The variable that names it, when the environment does (then it is used as it is, or reported). */
  readonly named: string | undefined
  /** Kafka: whether the local broker of dev/kafka can run here. */
  readonly localKafka: boolean
  readonly compose: boolean
  /** Root on Debian: the machine's own commands may start PostgreSQL and Redis. */
  readonly debianRoot: boolean
}

/**
 * How to get `s` answering, in this order: the one the environment names, used as it is; the one answering on
 * loopback; Kafka only, the local broker of dev/kafka; dev/compose.yml; PostgreSQL and Redis only, as root on
 * Debian, the machine's own service commands.
 */
export function stepFor(s: Situation): Step {
  if (s.answers) return 'ready'
  if (s.named !== undefined) return 'missing'
  if (s.service === 'Kafka' && s.localKafka) return 'local-kafka'
  if (s.compose) return 'compose'
  if (s.service !== 'Kafka' && s.debianRoot) return 'debian'
  return 'missing'
}

export const composeService: Record<ServiceName, ComposeService> = {
  Kafka: 'kafka',
  PostgreSQL: 'postgres',
  Redis: 'redis',
}

export const variables: Record<ServiceName, string> = {
  Kafka: 'KAFKA_BROKERS',
  PostgreSQL: 'TEST_POSTGRES_URL',
  Redis: 'REDIS_ADDR',
}

const ownHowTo: Record<ServiceName, string> = {
  Kafka: 'install Java 17+ and Maven for the local broker (npm run kafka:start), or set KAFKA_BROKERS=host:port,…',
  PostgreSQL:
    'or set TEST_POSTGRES_URL=postgres://USER:PASSWORD@HOST:PORT/postgres (a login with CREATEDB and CREATEROLE)',
  Redis: 'or start redis-server, or set REDIS_ADDR=host:port (and REDIS_PASSWORD)',
}

/** The one line saying what to start or set for `service`, which does not answer; `why` is the probe's error. */
export function missingLine(s: Situation, address: string, why?: string): string {
  const reason = why === undefined ? '' : ` (${why})`
  if (s.named !== undefined) {
    return `${s.service}: nothing usable answers at ${address}${reason}, which ${s.named} names: start it or correct ${s.named}`
  }
  const compose = 'run npm run dev:services (needs docker compose or podman compose)'
  return `${s.service}: nothing answers at ${address}${reason}: ${compose}, ${ownHowTo[s.service]}`
}
