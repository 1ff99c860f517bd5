// The consumer's recent trend, kept in memory for the console's charts: a fixed ring of samples taken every
// `intervalMs` (default 10 s, so the default 360 samples are the last hour). Each sample holds this member's
// applied records per second, its dead letters per second, the pending events (every member's, as this member
// last counted them) and, per partition it owns, the lag in records and in seconds.
//
// Bounded whatever runs through the consumer: the ring is Float64Arrays allocated once, 8 bytes per value, four
// columns plus two per charted partition, so capacity × 8 × (4 + 2 × partitions) bytes; at most `maxPartitions`
// partitions are charted (default 128: 360 × 8 × 260 = 749 KB at most), and a partition whose values have all
// left the ring (revoked an hour ago) gives its columns back.
//
// Lag in seconds, per partition: how long the oldest record of the partition that is not yet stored or
// dead-lettered has been in Kafka (now − its Kafka timestamp), for a record this member holds (fetched and
// waiting, or in a batch in flight). When it holds none but the partition is behind (Kafka's lag in records is
// above 0: records not fetched yet), it is now − the Kafka timestamp of the last record handled, an upper bound
// of the oldest unfetched record's age. Caught up (lag 0, nothing held), it is 0. Unknown before any lag report.

/** Samples the ring keeps: an hour at the default 10 s. */
export const seriesCapacity = 360
/** Most partitions one member charts. */
export const seriesMaxPartitions = 128

/** What the consumer counts, read at one instant. Counters are totals since the process started. */
export interface SeriesReading {
  /** Date.now() when read. */
  readonly at: number
  /** Records this member stored (the total since start). */
  readonly applied: number
  /** Records this member dead-lettered, from batches and from expired pending events (the total since start). */
  readonly deadLettered: number
  /** Pending events, as last counted; undefined before the first count. */
  readonly pending: number | undefined
  /** The partitions this member owns now, with what it knows of each. */
  readonly partitions: ReadonlyMap<number, PartitionReading>
}

export interface PartitionReading {
  /** Records between the group's committed offset and the log end, from the last lag report; undefined before one. */
  readonly lagRecords: number | undefined
  /** Kafka timestamp (ms) of the oldest record held and not yet handled, if one is held. */
  readonly oldestHeld: number | undefined
  /** Kafka timestamp (ms) of the last record handled (stored or dead-lettered), if any was. */
  readonly lastHandled: number | undefined
}

/** One point of the charts. */
export interface SeriesPoint {
  readonly at: number
  /** Records applied per second since the previous reading; undefined for the first. */
  readonly applied: number | undefined
  readonly deadLetters: number | undefined
  readonly pending: number | undefined
  readonly partitions: ReadonlyMap<number, { readonly lagRecords?: number; readonly lagSeconds?: number }>
}

/** The ring as the route answers it: columns oldest first, null where a value is unknown. */
export interface SeriesSnapshot {
  readonly intervalMs: number
  readonly capacity: number
  /** The ring's size in memory now, in bytes. */
  readonly bytes: number
  /** When each sample was taken, in ms since the epoch. */
  readonly at: number[]
  readonly applied: (number | null)[]
  readonly deadLetters: (number | null)[]
  readonly pending: (number | null)[]
  readonly partitions: { partition: number; lagRecords: (number | null)[]; lagSeconds: (number | null)[] }[]
  /** Partitions owned but not charted: past maxPartitions. */
  readonly partitionsOmitted: number
}

/** Per second of `count − before` over `ms`; undefined without a previous reading or with no time between. */
export function perSecond(before: number | undefined, count: number, ms: number): number | undefined {
  if (before === undefined || !(ms > 0)) return undefined
  // Counters only grow within a process; a smaller one (never expected) reads as no progress, not as negative.
  return round((Math.max(0, count - before) * 1000) / ms, 100)
}

/** `n` to 1/`per`: the answer's numbers stay short, and nobody reads a rate or a lag to the microsecond. */
const round = (n: number, per: number) => Math.round(n * per) / per

/** The lag in seconds of one partition at `now`, as the header defines it; undefined when unknown. */
export function lagSeconds(now: number, p: PartitionReading): number | undefined {
  // Kafka timestamps come from the producers' clocks: one ahead of ours reads as no lag, not as negative.
  const age = (since: number) => round(Math.max(0, (now - since) / 1000), 1000)
  if (p.oldestHeld !== undefined) return age(p.oldestHeld)
  if (p.lagRecords === undefined) return undefined
  if (p.lagRecords <= 0) return 0
  return p.lastHandled === undefined ? undefined : age(p.lastHandled)
}

/** The chart point of `current`, its rates taken against `previous`. */
export function pointOf(previous: SeriesReading | undefined, current: SeriesReading): SeriesPoint {
  const ms = previous === undefined ? 0 : current.at - previous.at
  const partitions = new Map<number, { lagRecords?: number; lagSeconds?: number }>()
  for (const [partition, reading] of current.partitions) {
    const seconds = lagSeconds(current.at, reading)
    partitions.set(partition, {
      ...(reading.lagRecords === undefined ? {} : { lagRecords: reading.lagRecords }),
      ...(seconds === undefined ? {} : { lagSeconds: seconds }),
    })
  }
  return {
    at: current.at,
    applied: perSecond(previous?.applied, current.applied, ms),
    deadLetters: perSecond(previous?.deadLettered, current.deadLettered, ms),
    pending: current.pending,
    partitions,
  }
}

export interface SeriesRingOptions {
  /** Samples kept (default and most: seriesCapacity). */
  readonly capacity?: number
  /** Time between samples, as the ring reports it (default 10 s); the caller takes them. */
  readonly intervalMs?: number
  /** Most partitions charted (default and most: seriesMaxPartitions); more are counted in partitionsOmitted. */
  readonly maxPartitions?: number
}

interface PartitionColumns {
  readonly lagRecords: Float64Array
  readonly lagSeconds: Float64Array
  /** The sequence number of the last sample that gave it a value: it is dropped once that left the ring. */
  last: number
}

const column = (capacity: number) => new Float64Array(capacity).fill(Number.NaN)
const value = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? Number.NaN : n)

/** The fixed ring of samples (see the header for its bound). */
export class SeriesRing {
  readonly capacity: number
  readonly intervalMs: number
  readonly #maxPartitions: number
  readonly #at: Float64Array
  readonly #applied: Float64Array
  readonly #deadLetters: Float64Array
  readonly #pending: Float64Array
  readonly #partitions = new Map<number, PartitionColumns>()
  /** Samples recorded so far; the next one goes to index #count % capacity. */
  #count = 0
  #omitted = 0

  constructor(options: SeriesRingOptions = {}) {
    this.capacity = Math.min(seriesCapacity, Math.max(2, Math.floor(options.capacity ?? seriesCapacity)))
    this.intervalMs = options.intervalMs ?? 10_000
    this.#maxPartitions = Math.min(
      seriesMaxPartitions,
      Math.max(0, Math.floor(options.maxPartitions ?? seriesMaxPartitions)),
    )
    this.#at = column(this.capacity)
    this.#applied = column(this.capacity)
    this.#deadLetters = column(this.capacity)
    this.#pending = column(this.capacity)
  }

  /** The ring's size in memory, in bytes: four columns and two per charted partition, 8 bytes per value. */
  get bytes(): number {
    return this.capacity * 8 * (4 + 2 * this.#partitions.size)
  }

  get size(): number {
    return Math.min(this.#count, this.capacity)
  }

  record(point: SeriesPoint): void {
    const sequence = this.#count++
    const i = sequence % this.capacity
    this.#at[i] = point.at
    this.#applied[i] = value(point.applied)
    this.#deadLetters[i] = value(point.deadLetters)
    this.#pending[i] = value(point.pending)
    for (const columns of this.#partitions.values()) {
      columns.lagRecords[i] = Number.NaN
      columns.lagSeconds[i] = Number.NaN
    }
    let omitted = 0
    for (const [partition, lag] of point.partitions) {
      let columns = this.#partitions.get(partition)
      if (columns === undefined) {
        if (this.#partitions.size >= this.#maxPartitions) {
          omitted++
          continue
        }
        columns = { lagRecords: column(this.capacity), lagSeconds: column(this.capacity), last: sequence }
        this.#partitions.set(partition, columns)
      }
      columns.lagRecords[i] = value(lag.lagRecords)
      columns.lagSeconds[i] = value(lag.lagSeconds)
      columns.last = sequence
    }
    this.#omitted = omitted
    // A partition no sample in the ring has a value for (owned by another member for a whole ring) is dropped.
    for (const [partition, columns] of this.#partitions) {
      if (sequence - columns.last >= this.capacity) this.#partitions.delete(partition)
    }
  }

  snapshot(): SeriesSnapshot {
    const size = this.size
    const first = this.#count - size
    const read = (source: Float64Array) => {
      const out: (number | null)[] = new Array(size)
      for (let k = 0; k < size; k++) {
        const n = source[(first + k) % this.capacity] as number
        out[k] = Number.isNaN(n) ? null : n
      }
      return out
    }
    const partitions = [...this.#partitions.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([partition, columns]) => ({
        partition,
        lagRecords: read(columns.lagRecords),
        lagSeconds: read(columns.lagSeconds),
      }))
    return {
      intervalMs: this.intervalMs,
      capacity: this.capacity,
      bytes: this.bytes,
      at: read(this.#at) as number[],
      applied: read(this.#applied),
      deadLetters: read(this.#deadLetters),
      pending: read(this.#pending),
      partitions,
      partitionsOmitted: this.#omitted,
    }
  }
}

/**
 * Takes a reading every `ring.intervalMs` into the ring, from start() to stop(). The first reading gives no rate
 * (nothing to compare it with); each next one is compared with the one before.
 */
export class SeriesSampler {
  readonly ring: SeriesRing
  readonly #read: () => SeriesReading
  #previous: SeriesReading | undefined
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(ring: SeriesRing, read: () => SeriesReading) {
    this.ring = ring
    this.#read = read
  }

  sample(): void {
    const reading = this.#read()
    this.ring.record(pointOf(this.#previous, reading))
    this.#previous = reading
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.sample()
    // unref: the samples never keep a process alive that has nothing else to do.
    this.#timer = setInterval(() => this.sample(), this.ring.intervalMs).unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
