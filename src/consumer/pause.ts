// What pausing the consumer group means, as pure functions over the pause record: which partitions may start a
// batch, what a pause or a resume turns the record into, what a member reports, and when every member has
// stopped. The I/O (Redis, timers) is pause-board.ts; the consume loop asks `mayStart` before every batch.
//
// The record names either every partition (`all`, which holds partitions the topic gains later too) or some,
// each with who paused it, when and why. A paused partition stays assigned and keeps its committed offset: no
// new batch of it starts, the batch in flight finishes and is committed.

/** Who paused, when, and why. */
export interface PauseEntry {
  readonly by: string
  readonly at: string
  readonly reason: string
}

export interface PauseRecord {
  /** Grows with every change, so a member's report says which version of the record it obeys. */
  readonly revision: number
  /** Every partition is paused (those the topic gains later too). */
  readonly all: PauseEntry | null
  /** Partitions paused one by one, by number. */
  readonly partitions: Readonly<Record<string, PauseEntry>>
}

/** Every partition, or the ones listed. */
export type PauseScope = 'all' | readonly number[]

export const emptyPauseRecord: PauseRecord = Object.freeze({ revision: 0, all: null, partitions: Object.freeze({}) })

/** Longest reason kept, in characters; longer ones are refused. */
export const pauseReasonMax = 200
/** Longest `by` kept, in characters (an OS user, `admin-api <address>`). */
export const pauseByMax = 200
/** Most partitions one request names. */
export const pausePartitionsMax = 1000

/** A pause or resume request that cannot be carried out as asked: a 400 on HTTP, exit code 2 on the CLI. */
export class PauseRequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PauseRequestError'
  }
}

/** Whether the record pauses `partition`. */
export function isPaused(record: PauseRecord, partition: number): boolean {
  return record.all !== null || Object.hasOwn(record.partitions, String(partition))
}

/** Whether a batch of `partition` may start: never while the record pauses it. */
export const mayStart = (record: PauseRecord, partition: number): boolean => !isPaused(record, partition)

/** The partitions of `owned` the record pauses, in order. */
export function pausedOf(record: PauseRecord, owned: readonly number[]): number[] {
  return owned.filter(p => isPaused(record, p)).sort((a, b) => a - b)
}

/** The partitions the record names one by one, in order. */
export const listedPartitions = (record: PauseRecord): number[] =>
  Object.keys(record.partitions)
    .map(Number)
    .sort((a, b) => a - b)

/** Whether anything is paused. */
export const anyPaused = (record: PauseRecord): boolean =>
  record.all !== null || Object.keys(record.partitions).length > 0

/**
 * The scope checked against the topic: every partition a number from 0 to partitionCount - 1, no more than
 * pausePartitionsMax of them; duplicates dropped, sorted. An empty list is refused (say `all`).
 */
export function checkScope(scope: PauseScope, partitionCount: number): PauseScope {
  if (scope === 'all') return 'all'
  if (scope.length === 0) throw new PauseRequestError('name at least one partition, or none at all for every one')
  if (scope.length > pausePartitionsMax) {
    throw new PauseRequestError(`at most ${pausePartitionsMax} partitions per request (${scope.length} given)`)
  }
  for (const p of scope) {
    if (!Number.isInteger(p) || p < 0 || p >= partitionCount) {
      throw new PauseRequestError(
        `partition ${p} is not a partition of the topic (it has ${partitionCount}: 0 to ${partitionCount - 1})`,
      )
    }
  }
  return [...new Set(scope)].sort((a, b) => a - b)
}

/** The entry as stored: `by` cut to pauseByMax, a reason longer than pauseReasonMax refused. */
export function pauseEntry(by: string, reason: string | undefined, now: Date): PauseEntry {
  const text = reason ?? ''
  if (text.length > pauseReasonMax) {
    throw new PauseRequestError(`the reason is ${text.length} characters; at most ${pauseReasonMax}`)
  }
  return { by: by.slice(0, pauseByMax), at: now.toISOString(), reason: text }
}

/**
 * The record after pausing `scope`. Pausing what is paused already keeps its first entry (who paused it first,
 * and since when, is what an operator needs to know); answers the same record when nothing changes.
 */
export function withPause(record: PauseRecord, scope: PauseScope, entry: PauseEntry): PauseRecord {
  if (scope === 'all') {
    return record.all !== null ? record : { ...record, revision: record.revision + 1, all: entry }
  }
  const added = scope.filter(p => !Object.hasOwn(record.partitions, String(p)))
  if (added.length === 0) return record
  const partitions = { ...record.partitions }
  for (const p of added) partitions[String(p)] = entry
  return { ...record, revision: record.revision + 1, partitions }
}

/**
 * The record after resuming `scope`: `all` lifts every pause; a list lifts those partitions' own pauses. While
 * every partition is paused, resuming some is refused: `all` holds no exceptions (resume all, then pause the
 * partitions that must stay paused). Answers the same record when nothing changes.
 */
export function withResume(record: PauseRecord, scope: PauseScope): PauseRecord {
  if (scope === 'all') {
    return anyPaused(record) ? { revision: record.revision + 1, all: null, partitions: {} } : record
  }
  if (record.all !== null) {
    throw new PauseRequestError(
      'every partition is paused: resume all of them, then pause again the ones that must stay paused',
    )
  }
  const removed = scope.filter(p => Object.hasOwn(record.partitions, String(p)))
  if (removed.length === 0) return record
  const partitions = { ...record.partitions }
  for (const p of removed) delete partitions[String(p)]
  return { ...record, revision: record.revision + 1, partitions }
}

const isEntry = (value: unknown): value is PauseEntry =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as PauseEntry).by === 'string' &&
  typeof (value as PauseEntry).at === 'string' &&
  typeof (value as PauseEntry).reason === 'string'

/**
 * The record stored as `text` (null when none was ever written). A record that does not parse pauses
 * everything: a member that cannot tell what is paused must not process what may be.
 */
export function parsePauseRecord(text: string | null | undefined): PauseRecord {
  if (text === null || text === undefined) return emptyPauseRecord
  const unreadable: PauseRecord = {
    revision: 0,
    all: { by: 'unreadable pause record', at: new Date(0).toISOString(), reason: text.slice(0, 80) },
    partitions: {},
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return unreadable
  }
  const r = value as Partial<PauseRecord> | null
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.revision)) return unreadable
  if (r.all !== null && !isEntry(r.all)) return unreadable
  if (typeof r.partitions !== 'object' || r.partitions === null) return unreadable
  for (const [key, entry] of Object.entries(r.partitions)) {
    if (!/^(0|[1-9][0-9]{0,8})$/.test(key) || !isEntry(entry)) return unreadable
  }
  return { revision: r.revision as number, all: r.all, partitions: r.partitions }
}

/** What one member of the group says about itself, every poll. */
export interface MemberReport {
  readonly member: string
  /** The revision of the record this member obeys. */
  readonly revision: number
  /** The partitions of the topic it owns. */
  readonly owned: readonly number[]
  /** Those of them the record pauses. */
  readonly paused: readonly number[]
  /** Paused partitions that still have a batch in flight (started before the pause reached this member). */
  readonly busy: readonly number[]
  /** The pending sweep is running while every partition is paused (it writes to the store). */
  readonly sweeping: boolean
  /** When the member wrote this report, by its own clock. */
  readonly at: string
}

/** The report of a member: of what it owns, which partitions are paused and which of those are still busy. */
export function memberReport(
  member: string,
  record: PauseRecord,
  owned: readonly number[],
  inFlight: ReadonlySet<number>,
  sweeping: boolean,
  now: Date,
): MemberReport {
  const paused = pausedOf(record, owned)
  return {
    member,
    revision: record.revision,
    owned: [...owned].sort((a, b) => a - b),
    paused,
    busy: paused.filter(p => inFlight.has(p)),
    sweeping: record.all !== null && sweeping,
    at: now.toISOString(),
  }
}

export function parseMemberReport(text: string): MemberReport | undefined {
  try {
    const r = JSON.parse(text) as MemberReport
    const numbers = (v: unknown) => Array.isArray(v) && v.every(n => Number.isInteger(n))
    if (typeof r.member !== 'string' || !Number.isSafeInteger(r.revision)) return undefined
    if (!numbers(r.owned) || !numbers(r.paused) || !numbers(r.busy) || typeof r.sweeping !== 'boolean') return undefined
    return r
  } catch {
    return undefined
  }
}

/** A member whose last report is no longer fresh: it stalled, lost Redis, or died without withdrawing it. */
export interface SilentMember {
  readonly report: MemberReport
  /** How long since its report stopped being fresh. */
  readonly silentMs: number
}

export interface IdleVerdict {
  /** Every fresh report obeys this revision (or a later one) and shows nothing of what is paused in flight. */
  readonly idle: boolean
  /** Why not, one line per member that is not there yet. */
  readonly waitingFor: readonly string[]
}

/**
 * Whether every member has stopped what the record pauses. Each fresh report must obey the record's revision or
 * a later one, and show no paused partition with a batch in flight (nor, while every partition is paused, a
 * pending sweep running). A silent member may still be processing what it owned (it lost Redis but not Kafka):
 * it holds idleness back while a paused partition it owned is owned by no fresh member. Once another member
 * reports the partition, the group took it away from the silent one (Kafka revokes before it reassigns). A
 * member that left withdrew its report; one that joins reads the record before its first batch.
 */
export function idleVerdict(
  record: PauseRecord,
  fresh: readonly MemberReport[],
  silent: readonly SilentMember[] = [],
): IdleVerdict {
  const waitingFor: string[] = []
  for (const r of fresh) {
    if (r.revision < record.revision) waitingFor.push(`${r.member}: has not read revision ${record.revision} yet`)
    else if (r.busy.length > 0) waitingFor.push(`${r.member}: batches of partitions ${r.busy.join(', ')} in flight`)
    else if (r.sweeping) waitingFor.push(`${r.member}: the pending sweep is running`)
  }
  const covered = new Set(fresh.flatMap(r => r.owned))
  for (const { report, silentMs } of silent) {
    const uncovered = pausedOf(record, report.owned).filter(p => !covered.has(p))
    if (uncovered.length > 0) {
      waitingFor.push(
        `${report.member}: silent for ${Math.round(silentMs / 1000)} s, and no live member owns its partitions ${uncovered.join(', ')}`,
      )
    }
  }
  return { idle: waitingFor.length === 0, waitingFor }
}
