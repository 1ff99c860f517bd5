// Whether the dead-letter queue answers, kept current in the background so /health can tell without waiting on
// Redis: a liveness probe must answer at once, whatever Redis does.
import type { DeadLetterQueue } from '../dlq/index.ts'
import type { Logger } from '../observability/index.ts'

export type DlqState = 'unknown' | 'ok' | 'unreachable'

export interface DlqWatch {
  /** The state as of the last PING (at most `intervalMs` old once started). */
  readonly state: DlqState
  /** Pings once (resolving when it is answered or failed), then every `intervalMs`. */
  start(): Promise<void>
  stop(): void
}

export function watchDlq(dlq: DeadLetterQueue, redisAddr: string, logger: Logger, intervalMs = 5000): DlqWatch {
  let state: DlqState = 'unknown'
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  let inFlight: Promise<void> | undefined

  function check(): Promise<void> {
    inFlight ??= dlq
      .ping()
      .then(
        () => {
          if (stopped) return
          if (state === 'unreachable') logger.info({ redis: redisAddr }, 'dead-letter queue: Redis answers again')
          state = 'ok'
        },
        (error: Error) => {
          if (stopped) return
          // One line per change, not per ping: the start-up warning and /health carry the state meanwhile.
          if (state !== 'unreachable') {
            logger.warn({ redis: redisAddr, error: error.message }, 'dead-letter queue: Redis does not answer')
          }
          state = 'unreachable'
        },
      )
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  return {
    get state() {
      return state
    },
    async start() {
      timer ??= setInterval(() => void check(), intervalMs).unref()
      await check()
    },
    stop() {
      stopped = true
      clearInterval(timer)
    },
  }
}
