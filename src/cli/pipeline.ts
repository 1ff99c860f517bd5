// The `pipeline` command: `pipeline all|producer|consumer|api|migrate|config|config-table|error-table`.
import {
  type Config,
  ConfigError,
  type ConfigScope,
  configHelp,
  configTable,
  describeConfig,
  loadConfig,
  type Role,
} from '../config/index.ts'
import { errorTable } from '../http/index.ts'
import { createStore } from '../store/index.ts'
import { pipelineVersion } from '../version.ts'
import { runDlq } from './dlq.ts'
import { eventCommand } from './event.ts'
import { runPause } from './pause.ts'
import { runRebuild } from './rebuild.ts'
import { serve } from './serve.ts'
import { checkDependencies } from './startup-checks.ts'
import { type StartContext, StartupFailure, startupFailure } from './startup-errors.ts'

const usage = `usage: pipeline <command>

commands:
  all            run the producer (:8080), consumer (:8081) and read API (:8082) in one process
  producer       run the producer alone (POST /produce)
  consumer       run the consumer alone
  api            run the read API alone
  migrate        create or upgrade the database schema, then exit
  event ID       what became of an event: applied, superseded, pending, dead-lettered or unknown
                 (--json for the answer of GET /events/{eventId})
  config         print the configuration in effect (secrets redacted)
  config-table   print the configuration reference as a markdown table
  error-table    print the error codes (HTTP status, retry, meaning, what to do) as a markdown table
  dlq            the dead-letter queue: list, show, stats, redrive, purge, audit, reindex
                 (\`pipeline dlq <command> --help\`; reads the Redis and Kafka variables)
  rebuild        rebuild the projection from the log with no downtime: start, status, verify, swap,
                 rollback, abort, drop-old (\`pipeline rebuild <command> --help\`)
  pause, resume  pause or resume the consumer group: every partition, or --partition N
  paused         what is paused, and each member's acknowledgement (\`pipeline pause --help\`)
  --version      print the version

configuration (environment variables):
`

export interface PipelineHooks {
  /** Runs once the configuration is loaded, before the roles are built (a launcher may start services here). */
  beforeServe?(config: Config, roles: readonly Role[]): Promise<void>
}

async function command(argv: readonly string[], hooks: PipelineHooks): Promise<number> {
  const name = argv[0]
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}${configHelp()}\n`)
    return name === undefined ? 2 : 0
  }
  if (name === 'config-table') {
    process.stdout.write(`${configTable()}\n`)
    return 0
  }
  if (name === 'error-table') {
    process.stdout.write(`${errorTable()}\n`)
    return 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`event-pipeline ${pipelineVersion()}\n`)
    return 0
  }
  // Only the variables of the roles this command runs are read and checked (`pipeline config` checks them all).
  const scopes: Record<string, ConfigScope> = {
    all: { roles: ['producer', 'consumer', 'api'], alone: false },
    producer: { roles: ['producer'], alone: true },
    consumer: { roles: ['consumer'], alone: true },
    api: { roles: ['api'], alone: true },
    migrate: { roles: ['consumer', 'api'], alone: false },
    // The producer's variables: Redis and the DLQ key, Kafka, and the body limit and MAX_EVENT_SKEW a replacement
    // payload keeps to.
    dlq: { roles: ['producer'], alone: false },
    event: { roles: ['consumer', 'api'], alone: false },
    // The consumer's variables: the store, Kafka and the group, Redis and the DLQ key.
    rebuild: { roles: ['consumer'], alone: false },
    pause: { roles: ['consumer'], alone: false },
    resume: { roles: ['consumer'], alone: false },
    paused: { roles: ['consumer'], alone: false },
  }
  const config = loadConfig(process.env, scopes[name])
  const warn = (line: string) => process.stderr.write(`pipeline: warning: ${line}\n`)
  // A configuration problem found late (an SQL Server connection string's keys) keeps its own exit code.
  const failed = (error: unknown, context: Omit<StartContext, 'config'>) =>
    error instanceof ConfigError ? error : startupFailure(error, { config, ...context })
  const run = async (roles: Role[], alone: boolean) => {
    try {
      await hooks.beforeServe?.(config, roles)
      await checkDependencies(config, roles, warn)
      return await serve(config, roles, alone, pipelineVersion())
    } catch (error) {
      throw failed(error, { roles, alone })
    }
  }
  switch (name) {
    case 'config':
      process.stdout.write(`${JSON.stringify(describeConfig(config), null, 2)}\n`)
      return 0
    case 'migrate': {
      try {
        const store = await createStore(config.database)
        try {
          await store.migrate()
        } finally {
          await store.close()
        }
        process.stdout.write(`pipeline: ${store.engine} schema is up to date\n`)
        return 0
      } catch (error) {
        throw failed(error, { roles: [], alone: false })
      }
    }
    case 'dlq':
      return runDlq(argv.slice(1), config)
    case 'rebuild':
      return runRebuild(argv.slice(1), config)
    case 'pause':
    case 'resume':
    case 'paused':
      return runPause(name, argv.slice(1), config)
    case 'event':
      try {
        return await eventCommand(argv.slice(1), config)
      } catch (error) {
        throw failed(error, { roles: [], alone: false })
      }
    case 'all':
      return run(['producer', 'consumer', 'api'], false)
    case 'producer':
    case 'consumer':
    case 'api':
      return run([name], true)
    default:
      process.stderr.write(`pipeline: unknown command "${name}"\n\n${usage}`)
      return 2
  }
}

/** Runs the command of `argv` (the arguments after the script) and resolves with the process's exit code. */
export async function runPipeline(argv: readonly string[], hooks: PipelineHooks = {}): Promise<number> {
  try {
    return await command(argv, hooks)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pipeline: ${error.message}\n`)
      return 78 // EX_CONFIG
    }
    // A dependency that is down at start (database, Kafka, a port) is an operational condition, not a crash:
    // one line that names it, its address and the next step, in the same taxonomy the logs use, and a non-zero
    // exit for the supervisor.
    if (error instanceof StartupFailure) {
      process.stderr.write(error.report)
      return 1
    }
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`pipeline: could not start: INTERNAL: ${message.replace(/\s*\n\s*/g, ' ')}\n`)
    return 1
  }
}
