// Runs roles as servers in this process until SIGTERM or SIGINT, then stops them in the order of src/roles
// within SHUTDOWN_TIMEOUT_MS.
import type { Config, Role } from '../config/index.ts'
import { configureLogOutput, createLogger, logOutputIsPretty } from '../observability/index.ts'
import { createRole, type RoleInstance, stopRoles } from '../roles/index.ts'
import { banner } from './banner.ts'

export interface Running {
  /** Addresses the roles listen on, by role. */
  readonly addresses: Partial<Record<Role, string>>
  stop(): Promise<void>
}

/** Builds, starts and listens each role (in this order). `alone` lets SERVICE_PORT pick the port. */
export async function runRoles(config: Config, roles: readonly Role[], alone: boolean): Promise<Running> {
  const running: RoleInstance[] = []
  const addresses: Partial<Record<Role, string>> = {}
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= stopRoles(running)
    return stopping
  }
  try {
    for (const role of roles) {
      const r = await createRole(role, config)
      running.push(r)
      await r.start()
      addresses[role] = await r.app.listen({ port: config.portOf(role, alone), host: config.host })
    }
  } catch (error) {
    await stop().catch(() => {})
    throw error
  }
  return { addresses, stop }
}

/** Serves the roles until a signal, then drains; resolves with the exit code. */
export async function serve(config: Config, roles: readonly Role[], alone: boolean, version = ''): Promise<number> {
  configureLogOutput(config.logFormat)
  const logger = createLogger(config.logLevel, 'pipeline')
  const running = await runRoles(config, roles, alone)
  logger.info({ addresses: running.addresses }, 'pipeline started')
  if (logOutputIsPretty()) process.stdout.write(banner(config, running.addresses, version))
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
