// The decisions of a redrive, without Redis or Kafka: which entries can be sent again, what record each becomes
// (original value and key, headers naming where it came from), which partition it goes to, how an entry's state
// moves, and what an entry whose send was in doubt at a crash became, judged from what Kafka holds.
import { type DeadLetter, redriveSourceHeader } from '../dlq/index.ts'
import { partitionOf } from '../kafka/index.ts'

/** Headers of a redriven record. `eventId` is the header the producer sets on every record. */
export const redriveHeaders = {
  eventId: 'eventId',
  id: 'x-redrive-id',
  entry: 'x-redrive-entry',
  source: redriveSourceHeader,
} as const

/**
 * An entry's state in a job. pending: not sent yet. sending: handed to Kafka, acknowledgement not recorded (after
 * a crash: in doubt). sent: Kafka acknowledged the copy, the DLQ entry not removed yet. done: removed. gone: sent,
 * but the DLQ no longer held the entry (purged or redriven by someone else meanwhile). failed: not sendable.
 */
export type EntryState = 'pending' | 'sending' | 'sent' | 'done' | 'gone' | 'failed'

/** One unit of a redrive job: one record to send, and the DLQ entries it replaces. */
export interface JobEntry {
  readonly n: number
  /** The exact DLQ entry texts to remove once Kafka acknowledged the copy (one, or all of a fixed eventId). */
  readonly entries: readonly string[]
  readonly eventId: string | null
  readonly key: string | null
  /** Target topic. */
  readonly topic: string
  /** The original coordinates (`topic/partition/offset`), or `producer` for a request the producer refused. */
  readonly source: string
  /** The original partition, the fallback for a record without key. */
  readonly originalPartition: number | null
  /** A replacement value (fix then redrive), UTF-8; else the value is the entry's own payload. */
  readonly value?: string
  state: EntryState
  partition?: number
  /** The partition's end offset read before the send: a copy sent by that attempt sits at or after it. */
  mark?: string
  offset?: string
  reason?: string
}

export type Redrivability = { readonly ok: true } | { readonly ok: false; readonly reason: string }

/** Whether an entry's original record can be sent again as it is. */
export function redrivability(letter: DeadLetter): Redrivability {
  if (letter.source === 'producer' || letter.topic === null) {
    return {
      ok: false,
      reason: 'refused by the producer, so there is no Kafka record: fix it with --event-id ID --payload FILE',
    }
  }
  if (letter.payload === null) return { ok: false, reason: 'the record had no value' }
  if (letter.payloadTruncated) {
    return {
      ok: false,
      reason: `the payload was cut to fit DLQ_ENTRY_MAX_BYTES; the whole record is in Kafka at ${letter.topic}/${letter.partition}/${letter.offset} while retained`,
    }
  }
  return { ok: true }
}

/** The original coordinates as the source header carries them. */
export const sourceOf = (letter: DeadLetter) =>
  letter.topic === null ? 'producer' : `${letter.topic}/${letter.partition}/${letter.offset}`

/** The job entry that sends `letter`'s own record to `to` (default: its own topic). */
export function jobEntryOf(n: number, entry: string, letter: DeadLetter, to: string | undefined): JobEntry {
  return {
    n,
    entries: [entry],
    eventId: letter.eventId,
    key: letter.key,
    topic: to ?? (letter.topic as string),
    source: sourceOf(letter),
    originalPartition: letter.partition,
    state: 'pending',
  }
}

/** The bytes to send: the replacement value, else the entry's payload (base64-decoded when so encoded). */
export function recordValue(job: JobEntry, letter: DeadLetter | undefined): Buffer {
  if (job.value !== undefined) return Buffer.from(job.value, 'utf8')
  if (letter?.payload == null) throw new Error(`entry ${job.n} has no payload to send`)
  return Buffer.from(letter.payload, letter.payloadEncoding === 'base64' ? 'base64' : 'utf8')
}

/**
 * The partition the producer's partitioner picks for the key (so the key's order holds among records the
 * producer writes); a record without key keeps its original partition when the topic still has it.
 */
export function partitionFor(job: Pick<JobEntry, 'key' | 'originalPartition'>, partitions: number): number {
  if (job.key !== null) return partitionOf(job.key, partitions)
  const original = job.originalPartition ?? 0
  return original < partitions ? original : 0
}

export function headersOf(redriveId: string, job: JobEntry): Record<string, string> {
  const headers: Record<string, string> = {
    [redriveHeaders.id]: redriveId,
    [redriveHeaders.entry]: String(job.n),
    [redriveHeaders.source]: job.source,
  }
  if (job.eventId !== null) headers[redriveHeaders.eventId] = job.eventId
  return headers
}

const moves: Readonly<Record<EntryState, readonly EntryState[]>> = {
  pending: ['sending', 'failed'],
  sending: ['sent', 'pending'],
  sent: ['done', 'gone'],
  done: [],
  gone: [],
  failed: [],
}

/** The entry in its next state; throws on a move the protocol does not allow (a bug, never input). */
export function move(job: JobEntry, to: EntryState, fields: Partial<JobEntry> = {}): JobEntry {
  if (!moves[job.state].includes(to)) throw new Error(`redrive entry ${job.n}: ${job.state} → ${to} is not allowed`)
  return { ...job, ...fields, state: to }
}

/** Whether the entry still needs work from the job. */
export const isOpen = (job: JobEntry) => job.state === 'pending' || job.state === 'sending' || job.state === 'sent'

/**
 * What became of entries whose send was in doubt (state sending), given the copies found in Kafka at or after
 * their marks (entry number → offset): found means Kafka holds the copy (sent), not found means it never landed
 * (pending, to be sent again). Never a guess: an entry without a mark is impossible by construction and fails.
 */
export function resolveInDoubt(inDoubt: readonly JobEntry[], found: ReadonlyMap<number, bigint>): JobEntry[] {
  return inDoubt.map(job => {
    if (job.state !== 'sending' || job.mark === undefined || job.partition === undefined) {
      throw new Error(`redrive entry ${job.n} is not in doubt or has no mark`)
    }
    const offset = found.get(job.n)
    return offset === undefined ? move(job, 'pending') : move(job, 'sent', { offset: offset.toString() })
  })
}

/** Per target topic and partition, the lowest mark of the entries in doubt: where the read-back starts. */
export function readBackFrom(inDoubt: readonly JobEntry[]): Map<string, Map<number, bigint>> {
  const out = new Map<string, Map<number, bigint>>()
  for (const job of inDoubt) {
    if (job.mark === undefined || job.partition === undefined) continue
    const topic = out.get(job.topic) ?? new Map<number, bigint>()
    out.set(job.topic, topic)
    const mark = BigInt(job.mark)
    const current = topic.get(job.partition)
    if (current === undefined || mark < current) topic.set(job.partition, mark)
  }
  return out
}

export interface Tallied {
  readonly total: number
  readonly pending: number
  readonly sent: number
  readonly failed: number
  readonly gone: number
}

/** Counts of a job's entries: sent counts every entry whose copy Kafka acknowledged (sent, done, gone). */
export function tally(entries: readonly JobEntry[]): Tallied {
  let pending = 0
  let sent = 0
  let failed = 0
  let gone = 0
  for (const e of entries) {
    if (e.state === 'pending' || e.state === 'sending') pending++
    else if (e.state === 'failed') failed++
    else sent++
    if (e.state === 'gone') gone++
  }
  return { total: entries.length, pending, sent, failed, gone }
}
