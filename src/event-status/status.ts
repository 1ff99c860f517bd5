// The status of one eventId, for GET /events/{eventId} on the read API and `pipeline event <eventId>`: what
// became of it, decided by a pure function (decideStatus) from what the store and the DLQ say about it.
//
//   applied        its row holds it (state events), or the inventory ledger has it (deltas)
//   superseded     the row it was for holds a newer event by (timestamp, position in the log)
//   pending        it waits in pending_events for its parent
//   dead-lettered  the DLQ holds it (and nothing above is true)
//   unknown        none of these: never seen, or older than EVENT_LOG_RETENTION, or its DLQ entry was removed
//
// A state event's table and key come from event_log (written in its batch's transaction, kept for
// EVENT_LOG_RETENTION); the row tells whether it still holds the event, and which event replaced it.
import {
  type DeadLetter,
  type DeadLettered,
  type DeadLetterQueue,
  deadLetteredOf,
  type KeyAnswer,
  type KeyQuestion,
  questionsForTable,
} from '../dlq/index.ts'
import { PipelineError } from '../errors.ts'
import type { EventType } from '../events/index.ts'
import { type EventFacts, newer, type Source, type StateTable, type Store } from '../store/index.ts'

/** A Kafka position as answers show it: the offset as a decimal string (offsets are 64-bit). */
export interface Position {
  readonly topic: string
  readonly partition: number
  readonly offset: string
}

export interface DeadLetterView {
  readonly code: string
  readonly message: string
  readonly failedAt: string
  /** Which role dead-lettered it: the consumer (a Kafka record) or the producer (a refused request). */
  readonly source: 'consumer' | 'producer'
  /** Null for a request the producer refused: it never reached Kafka. */
  readonly position: Position | null
}

interface Common {
  readonly eventId: string
  /**
   * Entries the DLQ holds for this eventId even so (a delta re-sent with another payload is refused): the
   * newest `deadLettersShown` of them.
   */
  readonly deadLetters?: readonly DeadLetterView[]
  /** How many entries the DLQ holds for it in all, when that is more than `deadLetters` shows. */
  readonly deadLetterTotal?: number
  /** Dead letters of the key its row is for that the row does not reflect (src/dlq/key-summary.ts). */
  readonly deadLettered?: DeadLettered
}

/** Most DLQ entries a status answer shows (the newest); `deadLetterTotal` counts them all. */
export const deadLettersShown = 10

/** The newest DLQ entries of an eventId and how many it has in all. */
export interface DeadLetterSample {
  readonly letters: readonly DeadLetter[]
  readonly total: number
}

interface Where {
  readonly type: EventType
  readonly table: string
  readonly key: string
  /** The Kafka record of this event: the one that holds the row (applied), or the first one seen. */
  readonly position: Position
}

export type EventStatus =
  | (Common & Where & { readonly status: 'applied'; readonly at: string })
  | (Common &
      Where & {
        readonly status: 'superseded'
        readonly by: { readonly eventId: string; readonly timestamp: string; readonly position: Position }
      })
  | (Common &
      Where & {
        readonly status: 'pending'
        readonly waitingFor: { readonly table: string; readonly key: string; readonly constraint: string }
        readonly since: string
        /** Kafka records of this eventId waiting (a redelivered record is pending once per position). */
        readonly records: number
      })
  | (Common & { readonly status: 'dead-lettered'; readonly deadLetters: readonly DeadLetterView[] })
  | (Common & { readonly status: 'unknown'; readonly lastSeen?: Where })

export type StatusWord = EventStatus['status']

const typeOfTable: Readonly<Record<StateTable, EventType>> = {
  users: 'UserCreated',
  orders: 'OrderPlaced',
  payments: 'PaymentSettled',
}

const position = (s: Source): Position => ({ topic: s.topic, partition: s.partition, offset: s.offset.toString() })

function viewOf(letter: DeadLetter): DeadLetterView {
  const at =
    letter.topic === null || letter.partition === null || letter.offset === null
      ? null
      : { topic: letter.topic, partition: letter.partition, offset: letter.offset }
  return {
    code: letter.error.code,
    message: letter.error.message,
    failedAt: letter.failedAt,
    source: letter.source,
    position: at,
  }
}

/**
 * The status of `eventId` from the store's facts and its DLQ entries; undefined when the facts do not decide
 * and the DLQ could not be read (`deadLetters` undefined). The store's answer wins over the DLQ's: a row
 * holding the event, or a pending row, is what the event did last.
 */
export function decideStatus(
  eventId: string,
  facts: EventFacts,
  deadLetters: readonly DeadLetter[] | undefined,
  total: number = deadLetters?.length ?? 0,
): EventStatus | undefined {
  const shown = deadLetters?.slice(0, deadLettersShown)
  const letters = shown === undefined || shown.length === 0 ? undefined : shown.map(viewOf)
  const also =
    letters === undefined ? {} : { deadLetters: letters, ...(total > letters.length ? { deadLetterTotal: total } : {}) }
  const { logged, row, pending, ledger } = facts
  const where: Where | undefined =
    logged === undefined
      ? undefined
      : { type: typeOfTable[logged.table], table: logged.table, key: logged.key, position: position(logged.source) }

  if (where !== undefined && row !== undefined && row.eventId === eventId) {
    return { eventId, status: 'applied', ...where, position: position(row.source), at: row.updatedAt, ...also }
  }
  const [first] = pending
  if (first !== undefined) {
    return {
      eventId,
      status: 'pending',
      type: where?.type ?? 'OrderPlaced',
      table: where?.table ?? 'orders',
      key: first.key,
      position: position(first.source),
      waitingFor: { table: first.parentTable, key: first.parentKey, constraint: first.constraint },
      since: first.pendingSince,
      records: pending.length,
      ...also,
    }
  }
  if (where !== undefined && logged !== undefined && row !== undefined) {
    const mine = { eventId, eventTs: logged.eventTs, source: logged.source }
    if (newer(row, mine)) {
      return {
        eventId,
        status: 'superseded',
        ...where,
        by: { eventId: row.eventId, timestamp: row.eventTs, position: position(row.source) },
        ...also,
      }
    }
  }
  if (ledger !== undefined) {
    return {
      eventId,
      status: 'applied',
      type: 'InventoryAdjusted',
      table: 'inventory',
      key: ledger.sku,
      position: position(ledger.source),
      at: ledger.appliedAt,
      ...also,
    }
  }
  if (deadLetters === undefined) return undefined
  if (letters !== undefined) return { eventId, status: 'dead-lettered', deadLetters: letters }
  return where === undefined ? { eventId, status: 'unknown' } : { eventId, status: 'unknown', lastSeen: where }
}

export interface EventStatusSources {
  readonly store: Pick<Store, 'eventFacts'>
  /** The newest DLQ entries of an eventId and their count, from the index (see deadLettersOf). */
  readonly deadLetters: (eventId: string) => Promise<DeadLetterSample>
  /** The DLQ's key summary (DeadLetterQueue.keySummaries); without it a status tells nothing of its key. */
  readonly keySummaries?: (questions: readonly KeyQuestion[]) => Promise<KeyAnswer[]>
}

/**
 * The questions about the key a status names: its table's entries later than the row the store holds for that key
 * (every one when there is none), the inventory's every entry. None for a status that names no key.
 */
export function keyQuestionsOf(status: EventStatus, facts: EventFacts): KeyQuestion[] {
  if (!('table' in status) || status.table === undefined) return []
  const table = status.table
  if (table !== 'users' && table !== 'orders' && table !== 'payments' && table !== 'inventory') return []
  return questionsForTable(table, status.key, facts.row?.source.offset.toString())
}

/**
 * Looks the event up in the store and the DLQ at once. A DLQ that cannot be read matters only when the store
 * does not decide: then the error is DLQ_UNAVAILABLE (retryable, 503).
 */
export async function eventStatus(eventId: string, sources: EventStatusSources): Promise<EventStatus> {
  const [facts, letters] = await Promise.all([
    sources.store.eventFacts(eventId),
    sources.deadLetters(eventId).then(
      found => ({ found }),
      (error: unknown) => ({ error }),
    ),
  ])
  const sample = 'found' in letters ? letters.found : undefined
  const status = decideStatus(eventId, facts, sample?.letters, sample?.total)
  if (status !== undefined) return withKeyState(status, facts, sources)
  const cause = 'error' in letters ? letters.error : undefined
  throw new PipelineError(
    'DLQ_UNAVAILABLE',
    `the dead-letter queue could not be read, and the store does not know eventId ${JSON.stringify(eventId)}`,
    { cause },
  )
}

/** The status with what the DLQ holds of its key; as it is when the DLQ cannot tell (never a failure). */
async function withKeyState(status: EventStatus, facts: EventFacts, sources: EventStatusSources): Promise<EventStatus> {
  const questions = keyQuestionsOf(status, facts)
  if (sources.keySummaries === undefined || questions.length === 0) return status
  try {
    const deadLettered = deadLetteredOf(await sources.keySummaries(questions))
    return deadLettered === undefined ? status : { ...status, deadLettered }
  } catch {
    return status
  }
}

/** The status's view of a DLQ: one page of the eventId index, the newest few entries and the count. */
export function deadLettersOf(dlq: Pick<DeadLetterQueue, 'eventPage'>) {
  return async (eventId: string): Promise<DeadLetterSample> => {
    const page = await dlq.eventPage(eventId, deadLettersShown)
    return { letters: page.entries.map(s => s.letter), total: Math.max(page.total, page.entries.length) }
  }
}
