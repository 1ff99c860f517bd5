// The dependencies a command needs, checked before any role is built, each within a few seconds: a person sees
// one line naming what is missing instead of a client's retries and stack traces.
//   Kafka: the consumer cannot start without it (a failure). The producer alone starts anyway and answers 503
//   until Kafka answers (a warning), so an orchestrator may start it first.
//   Redis: never a failure; nothing is dead-lettered while it is down, which the warning says, and the
//   consumer's /health keeps telling. The read API starts without either and serves the stored rows.
import type { Config, Role } from '../config/index.ts'
import { dlqFromConfig } from '../dlq/index.ts'
import { kafkaAnswers, topicRetention } from '../kafka/cluster-admin.ts'
import { connectionOf } from '../kafka/options.ts'
import { retentionWarning } from '../rebuild/index.ts'
import {
  kafkaLabel,
  kafkaNextStep,
  redact,
  redisLabel,
  redisNextStep,
  StartupFailure,
  socketReason,
} from './startup-errors.ts'

/** Longest the Kafka probe waits for a metadata answer. */
export const kafkaProbeMs = 5000

/** What goes unhandled while Redis is down, by the roles that dead-letter. */
function withoutRedis(roles: readonly Role[]): string {
  const lost: string[] = []
  if (roles.includes('consumer')) {
    lost.push(
      "the consumer applies nothing until Redis answers (it reads the group's pause record first), and records " +
        'that cannot be applied hold their partition until then',
    )
  }
  if (roles.includes('producer')) lost.push('refused requests are not dead-lettered')
  if (roles.includes('api'))
    lost.push('GET /events/{eventId} answers 503 DLQ_UNAVAILABLE for an eventId the store does not know')
  return lost.join('; ')
}

/** Why Redis did not answer a PING, or undefined when it did. */
async function redisProblem(config: Config): Promise<string | undefined> {
  const dlq = dlqFromConfig(config)
  try {
    await dlq.ping()
    return undefined
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause
    return socketReason(error) ?? (cause instanceof Error ? cause.message : (error as Error).message)
  } finally {
    await dlq.close()
  }
}

/**
 * The warning for a topic whose settings delete records: the projection is rebuilt from the log (`pipeline
 * rebuild`), and only from what the log still holds. The pipeline creates its topic keeping everything; one made
 * by hand or by an older version may not. A topic that does not exist yet (the consumer creates it) or settings
 * that cannot be read say nothing.
 */
async function retentionProblem(config: Config): Promise<string | undefined> {
  const connection = { ...connectionOf(config, 'startup-check'), retries: 0, timeout: kafkaProbeMs }
  try {
    return retentionWarning(config.kafkaTopic, await topicRetention(connection, config.kafkaTopic))
  } catch {
    return undefined
  }
}

/**
 * Checks Kafka and Redis for the roles, in parallel. Throws a StartupFailure when the consumer would run without
 * Kafka; calls `warn` with one line for each other problem.
 */
export async function checkDependencies(
  config: Config,
  roles: readonly Role[],
  warn: (line: string) => void,
): Promise<void> {
  // Every role uses both: the read API reads the log's end offsets for ?after= waits and looks dead letters up
  // by eventId for event status; neither stops it from serving the stored rows.
  const [kafka, redis] = await Promise.all([
    kafkaAnswers(connectionOf(config, 'startup-check'), kafkaProbeMs),
    redisProblem(config),
  ])
  if (redis !== undefined) {
    const line = `DLQ_UNAVAILABLE: ${redisLabel(config)} does not answer (${redis}), so the dead-letter queue is off: ${withoutRedis(roles)}; ${redisNextStep}`
    warn(redact(line, config))
  }
  if (kafka) {
    if (roles.includes('consumer')) {
      const warning = await retentionProblem(config)
      if (warning !== undefined) warn(warning)
    }
    return
  }
  const down = `${kafkaLabel(config)} does not answer`
  if (roles.includes('consumer')) throw new StartupFailure('KAFKA_UNAVAILABLE', `${down}; ${kafkaNextStep}`)
  const meanwhile = [
    ...(roles.includes('producer') ? ['the producer starts and answers 503 until it does'] : []),
    ...(roles.includes('api')
      ? [
          "the read API serves stored rows, but an ?after= offset it has not applied waits READ_WAIT_MS and answers 503 even when it lies past the log's end",
        ]
      : []),
  ]
  warn(`KAFKA_UNAVAILABLE: ${down}; ${meanwhile.join('; ')}; ${kafkaNextStep}`)
}
