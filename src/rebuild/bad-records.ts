// Where a rebuild's bad records go instead of the DLQ. The live consumer dead-lettered each of them already (the
// rebuild reads the same log under the same rules), so a second entry would only be noise: the sink counts them
// and keeps the first few for status, in bounded memory.
import type { DeadLetterSink } from '../consumer/index.ts'
import type { DeadLetter, PushOutcome } from '../dlq/index.ts'

/** Bad records status lists; the rest are counted. */
export const badRecordsKept = 100

export interface BadRecord {
  readonly code: string
  readonly message: string
  readonly partition: number | null
  readonly offset: string | null
  readonly eventId: string | null
}

/** What a sink holds, as status shows it and Redis keeps it between runs. */
export interface BadRecords {
  readonly count: number
  readonly first: readonly BadRecord[]
  /** Per partition, the greatest offset counted: a record read again after a restart is not counted twice. */
  readonly counted: Readonly<Record<string, string>>
}

export const noBadRecords: BadRecords = Object.freeze({ count: 0, first: [], counted: {} })

/** Longest message kept per record. */
const messageMax = 300

/**
 * A DeadLetterSink that counts. A partition's records are processed in offset order and a restart reads again
 * only from an earlier offset, so "offset above the greatest counted in its partition" tells a new bad record
 * from one seen again, without remembering each one.
 */
export class BadRecordSink implements DeadLetterSink {
  /** The consumer decodes no more of a record than this for an entry: the sink keeps no payloads. */
  readonly entryMaxBytes = 1024
  readonly #max: number
  #count: number
  readonly #first: BadRecord[]
  readonly #counted: Map<string, bigint>

  constructor(from: BadRecords = noBadRecords, max = badRecordsKept) {
    this.#max = max
    this.#count = from.count
    this.#first = from.first.slice(0, max)
    this.#counted = new Map(Object.entries(from.counted).map(([p, o]) => [p, BigInt(o)]))
  }

  async push(records: readonly DeadLetter[]): Promise<PushOutcome> {
    for (const letter of records) {
      if (letter.partition !== null && letter.offset !== null) {
        const partition = String(letter.partition)
        const offset = BigInt(letter.offset)
        if (offset <= (this.#counted.get(partition) ?? -1n)) continue
        this.#counted.set(partition, offset)
      }
      this.#count++
      if (this.#first.length < this.#max) {
        this.#first.push({
          code: letter.error.code,
          message: letter.error.message.slice(0, messageMax),
          partition: letter.partition,
          offset: letter.offset,
          eventId: letter.eventId === null ? null : letter.eventId.slice(0, 200),
        })
      }
    }
    return { pushed: records.length, dropped: {} }
  }

  snapshot(): BadRecords {
    return {
      count: this.#count,
      first: [...this.#first],
      counted: Object.fromEntries([...this.#counted].map(([p, o]) => [p, o.toString()])),
    }
  }
}
