// Back-off for transient failures: exponential with full jitter, capped, and abortable so that shutdown never
// waits out a back-off.
import { setTimeout as sleep } from 'node:timers/promises'

export interface Backoff {
  readonly initialMs: number
  readonly maxMs: number
}

export const defaultBackoff: Backoff = { initialMs: 100, maxMs: 5000 }

export function backoffDelay(attempt: number, backoff: Backoff = defaultBackoff): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20))
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
}

/** Sleeps; resolves false (instead of throwing) when the signal aborts first. */
export async function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}

export class Aborted extends Error {
  constructor() {
    super('aborted: the consumer is shutting down')
    this.name = 'Aborted'
  }
}
