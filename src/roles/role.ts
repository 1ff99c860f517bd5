// What every role factory returns and takes, and the pieces they share.
//
// Ownership: a role closes what its factory created. Whatever the caller passed in as an override (a store, a
// DLQ) belongs to the caller, which closes it; the one exception is the consumer's drain, which may close its
// store to cancel a statement that hangs past half the shutdown budget.
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Config, Role } from '../config/index.ts'
import { markClosing } from '../http/index.ts'
import { createLogger, createRegistry, type Logger } from '../observability/index.ts'
import { createStore, type Store } from '../store/index.ts'

export interface RoleOverrides {
  /** Default: JSON lines on stdout at LOG_LEVEL, named after the role. */
  logger?: Logger
  /** Default: a registry of its own with Node's default metrics. */
  registry?: Registry
}

export interface RoleInstance {
  readonly role: Role
  /** The role's HTTP app, not listening yet: the process decides the address. */
  readonly app: FastifyInstance
  /** Starts the role's background work (the consumer joins its group). Call before listening. */
  start(): Promise<void>
  /** Stops the role's own work: the producer stops taking requests and flushes Kafka, the consumer drains. */
  drain(): Promise<void>
  /** Closes the app and releases what the factory opened. Call after drain. */
  close(): Promise<void>
}

export function observabilityOf(
  config: Pick<Config, 'logLevel'>,
  role: Role,
  overrides: RoleOverrides,
): { logger: Logger; registry: Registry } {
  return {
    logger: overrides.logger ?? createLogger(config.logLevel, role),
    registry: overrides.registry ?? createRegistry(role),
  }
}

/** The store of the configuration, its schema created or upgraded. */
export async function openStore(config: Pick<Config, 'database' | 'dbTimeoutMs'>, logger: Logger): Promise<Store> {
  const store = await createStore(config.database, { timeoutMs: config.dbTimeoutMs })
  await store.migrate()
  logger.info({ engine: store.engine }, 'store ready')
  return store
}

/** The order every set of roles stops in: one place, whoever runs them (the command, the bench, the tests). */
const stopOrder: readonly Role[] = ['producer', 'consumer', 'api']

/**
 * Stops roles: every app answers 503 first (/ready, the producer's intake), then the producer drains (no new
 * events in), then the consumer (batch in hand → store/DLQ → commit → leave the group), then the rest; the apps
 * and resources close last.
 */
export async function stopRoles(roles: readonly RoleInstance[]): Promise<void> {
  for (const r of roles) markClosing(r.app)
  for (const role of stopOrder) {
    for (const r of roles.filter(x => x.role === role)) await r.drain()
  }
  await Promise.all(roles.map(r => r.close()))
}
