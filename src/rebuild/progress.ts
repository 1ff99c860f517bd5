// How far the shadow is, per partition and overall, from two looks at it: what the shadow store has processed
// (its applied_offsets marks) and where the log ends. Pure, so the arithmetic is tested without Kafka or SQL.

/** One look: when, the shadow's marks (offset through which every record is processed) and the log ends. */
export interface Sample {
  readonly at: number
  readonly marks: ReadonlyMap<number, bigint>
  readonly ends: ReadonlyMap<number, bigint>
}

export interface PartitionProgress {
  readonly partition: number
  /** The next offset the shadow processes: its mark + 1, 0 while it has none. */
  readonly reached: string
  /** The log end when looked at: the offset the partition's next record gets. */
  readonly end: string
  /** Records between the two (0 when caught up). */
  readonly lag: number
  /** Records processed per second lately. */
  readonly perSecond: number
  /** Seconds until the lag is worked off at that rate; null when nothing moves. */
  readonly etaSeconds: number | null
}

export interface Progress {
  readonly at: string
  readonly partitions: readonly PartitionProgress[]
  readonly lag: number
  readonly perSecond: number
  readonly etaSeconds: number | null
  /** Every partition reached the log end it was compared with. */
  readonly caughtUp: boolean
  /** The rates are measured (false on the first look, which has nothing to measure them against). */
  readonly rated: boolean
}

/** Weight of the newest interval in the smoothed rate: recent enough to follow a change, calm enough to read. */
const smoothing = 0.5

const nextOf = (marks: ReadonlyMap<number, bigint>, p: number) => (marks.get(p) ?? -1n) + 1n

const eta = (lag: number, perSecond: number) => (lag === 0 ? 0 : perSecond > 0 ? Math.ceil(lag / perSecond) : null)

/**
 * The progress at `now`, with rates from `before` (the previous look, and the rates shown then). A partition the
 * shadow passed the looked-at end of (records came between the two reads) counts as caught up, not negative.
 */
export function progressOf(now: Sample, before?: { sample: Sample; progress: Progress }): Progress {
  const partitions = [...new Set([...now.ends.keys(), ...now.marks.keys()])].sort((a, b) => a - b)
  const seconds = before === undefined ? 0 : (now.at - before.sample.at) / 1000
  const rows: PartitionProgress[] = partitions.map(partition => {
    const reached = nextOf(now.marks, partition)
    const end = now.ends.get(partition) ?? reached
    const lag = end > reached ? Number(end - reached) : 0
    let perSecond = 0
    if (before !== undefined && seconds > 0) {
      const moved = Number(reached - nextOf(before.sample.marks, partition))
      const fresh = Math.max(0, moved) / seconds
      const shown = before.progress.rated ? before.progress.partitions.find(p => p.partition === partition) : undefined
      const old = shown?.perSecond ?? fresh
      perSecond = smoothing * fresh + (1 - smoothing) * old
    }
    return {
      partition,
      reached: reached.toString(),
      end: end.toString(),
      lag,
      perSecond: Math.round(perSecond * 10) / 10,
      etaSeconds: eta(lag, perSecond),
    }
  })
  const lag = rows.reduce((sum, r) => sum + r.lag, 0)
  const perSecond = Math.round(rows.reduce((sum, r) => sum + r.perSecond, 0) * 10) / 10
  // The slowest partition decides when the whole is done.
  const etas = rows.map(r => r.etaSeconds)
  const overall = etas.includes(null) ? null : Math.max(0, ...(etas as number[]))
  return {
    at: new Date(now.at).toISOString(),
    partitions: rows,
    lag,
    perSecond,
    etaSeconds: lag === 0 ? 0 : overall,
    caughtUp: lag === 0,
    rated: before !== undefined && seconds > 0,
  }
}

/**
 * Partitions where the shadow has not processed what the live projection has (both as applied_offsets marks):
 * a swap or a verify before these are reached would lose, or report as different, what the live tables hold.
 */
export function behindLive(
  shadow: ReadonlyMap<number, bigint>,
  live: ReadonlyMap<number, bigint>,
): { partition: number; shadow: bigint; live: bigint }[] {
  const behind: { partition: number; shadow: bigint; live: bigint }[] = []
  for (const [partition, mark] of [...live].sort(([a], [b]) => a - b)) {
    const own = shadow.get(partition) ?? -1n
    if (own < mark) behind.push({ partition, shadow: own, live: mark })
  }
  return behind
}

/** "2 h 05 min", "3 min 20 s", "12 s": an ETA people read at a glance. */
export function durationText(seconds: number | null): string {
  if (seconds === null) return '—'
  const s = Math.max(0, Math.round(seconds))
  if (s >= 3600) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
  if (s >= 60) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
  return `${s} s`
}
