// Timers shared by every stage: a deadline on a promise and an abortable sleep. Nothing here knows about Kafka,
// SQL or Redis; callers say what a timeout means to them.
import { setTimeout as wait } from 'node:timers/promises'

/**
 * `work`, or a rejection when it has not settled within `ms`: an Error saying `what` did not answer, or the error
 * `what` builds. The timer never outlives the race, so a settled `work` keeps no process alive.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(typeof what === 'string' ? new Error(`${what} did not answer within ${ms} ms`) : what()),
      ms,
    )
  })
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return wait(ms)
}

/** Sleeps; resolves false (instead of throwing) when the signal aborts first, so shutdown never waits it out. */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false
  try {
    await wait(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}
