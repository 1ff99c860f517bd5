// "Once per interval" for log lines that an attacker or an outage could otherwise repeat per request: the first
// occurrence is told at once, the ones after it are counted and told together at the end of each interval in
// which there were any, so a flood costs one line per interval and the last counts are never lost.

export type Counts = Readonly<Record<string, number>>

export interface IntervalLog {
  /** Counts `n` occurrences of `reason`. */
  add(reason: string, n?: number): void
  /** Tells what is counted and not told yet, and stops the timer. */
  close(): void
}

export const defaultReportIntervalMs = 10_000

export function createIntervalLog(intervalMs: number, emit: (counts: Counts) => void): IntervalLog {
  let counts: Record<string, number> = {}
  let pending = false
  let timer: NodeJS.Timeout | undefined

  function flush(): boolean {
    if (!pending) return false
    const told = counts
    counts = {}
    pending = false
    emit(told)
    return true
  }

  function arm(): void {
    timer = setTimeout(() => {
      timer = undefined
      // An interval with nothing new ends the window: the next occurrence is told at once again.
      if (flush()) arm()
    }, intervalMs)
    // A report pending must not keep the process alive at exit.
    timer.unref()
  }

  return {
    add(reason, n = 1) {
      counts[reason] = (counts[reason] ?? 0) + n
      pending = true
      if (timer === undefined) {
        flush()
        arm()
      }
    },
    close() {
      clearTimeout(timer)
      timer = undefined
      flush()
    },
  }
}
