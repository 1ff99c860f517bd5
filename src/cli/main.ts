// The `pipeline` command: `pipeline all|producer|consumer|api|migrate|config|config-table`.
import { brokerAnswers, startLocalKafka } from '../../scripts/kafka/local-broker.ts'
import { type Config, ConfigError, configTable, describeConfig, loadConfig, type Role } from '../config/index.ts'
import { asPipelineError } from '../errors.ts'
import { createLogger } from '../observability/index.ts'
import { createStore } from '../store/index.ts'
import { runRoles } from './roles.ts'

const usage = `usage: pipeline <command>

commands:
  all            run the producer (:8080), the consumer (:8081) and the read API (:8082) in one process
  producer       run the producer alone (POST /produce)
  consumer       run the consumer alone
  api            run the read API alone
  migrate        create or upgrade the database schema, then exit
  config         print the configuration in effect (secrets redacted)
  config-table   print the configuration reference as a markdown table

configuration (environment variables):
`

const localBrokers = new Set(['localhost:9092', '127.0.0.1:9092'])

/** With the default KAFKA_BROKERS and nothing answering there, start the project's own local broker. */
async function ensureKafka(config: Config): Promise<void> {
  const local = config.kafkaBrokers.length === 1 && localBrokers.has(config.kafkaBrokers[0] as string)
  if (!local || !config.kafkaAutostart || (await brokerAnswers(config.kafkaBrokers, 2000))) return
  process.stderr.write(
    'pipeline: no Kafka answers on localhost:9092; starting the local broker (KAFKA_AUTOSTART=false to skip)\n',
  )
  await startLocalKafka(line => process.stderr.write(`pipeline: kafka: ${line}\n`))
}

async function serve(config: Config, roles: Role[], alone: boolean): Promise<number> {
  const logger = createLogger(config.logLevel, 'pipeline')
  if (roles.includes('producer') || roles.includes('consumer')) await ensureKafka(config)
  const running = await runRoles(config, roles, alone)
  logger.info({ addresses: running.addresses }, 'pipeline started')
  const signal = await new Promise<NodeJS.Signals>(resolve => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  logger.info({ signal }, 'shutting down')
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; exiting anyway')
    process.exit(1)
  }, config.shutdownTimeoutMs)
  timer.unref()
  await running.stop()
  clearTimeout(timer)
  logger.info('stopped')
  // Everything is closed; should a library still hold a handle, it must not keep the process alive.
  setTimeout(() => process.exit(0), 1000).unref()
  return 0
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0]
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${usage}${configTable()}\n`)
    return command === undefined ? 2 : 0
  }
  if (command === 'config-table') {
    process.stdout.write(`${configTable()}\n`)
    return 0
  }
  const config = loadConfig()
  switch (command) {
    case 'config':
      process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`)
      return 0
    case 'migrate': {
      const store = await createStore(config.database)
      try {
        await store.migrate()
      } finally {
        await store.close()
      }
      process.stdout.write(`pipeline: ${store.engine} schema is up to date\n`)
      return 0
    }
    case 'all':
      return serve(config, ['producer', 'consumer', 'api'], false)
    case 'producer':
    case 'consumer':
    case 'api':
      return serve(config, [command], true)
    default:
      process.stderr.write(`pipeline: unknown command "${command}"\n\n${usage}`)
      return 2
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`pipeline: ${error.message}\n`)
    process.exitCode = 78 // EX_CONFIG
  } else {
    // A dependency that is down at start (database, Kafka) is an operational condition, not a crash: one line
    // that says what failed, in the same taxonomy the logs use, and a non-zero exit for the supervisor.
    const e = asPipelineError(error)
    process.stderr.write(`pipeline: could not start: ${e.code}: ${e.message}\n`)
    process.exitCode = 1
  }
}
