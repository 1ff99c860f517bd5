// Back-off for transient failures: exponential with full jitter, capped. The wait itself is pause (src/async.ts),
// which shutdown cuts short.

export interface Backoff {
  readonly initialMs: number
  readonly maxMs: number
}

export const defaultBackoff: Backoff = { initialMs: 100, maxMs: 5000 }

export function backoffDelay(attempt: number, backoff: Backoff = defaultBackoff): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

export class Aborted extends Error {
  constructor() {
    super('aborted: the consumer is shutting down')
    this.name = 'Aborted'
  }
}
