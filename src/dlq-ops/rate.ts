// Pacing of a redrive at N records a second: sends go out in slices ten times a second, each slice due when the
// records before it would have taken their share of the time, so the average holds however long a send takes.

/** Records per send: a tenth of the rate (at least one), or `max` without a rate. */
export function sliceSize(rate: number | undefined, max = 500): number {
  if (rate === undefined) return max
  return Math.max(1, Math.min(max, Math.round(rate / 10)))
}

/** How long to wait before sending the record numbered `sent` (0-based) of a run started at `startedAt`. */
export function delayBefore(sent: number, startedAt: number, now: number, rate: number | undefined): number {
  if (rate === undefined) return 0
  return Math.max(0, startedAt + (sent / rate) * 1000 - now)
}
