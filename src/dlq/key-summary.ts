// The DLQ's key summary, and the rule a read keeps with it: a row whose key has a dead letter later in the log
// than the record the row came from is not current, and the read says so (docs/architecture.md, "Rows with newer
// dead letters").
//
// The scripts keep, per (class, Kafka key), a sorted set of the distinct entries that stand for a record in the
// log, scored by offset (src/redis/lua/dlq-common.lua, keyPlaceOf). A read asks, per class, how many entries have
// an offset past its row's and which is the newest: questionsFor builds the questions from the rows a read found,
// deadLetteredOf folds the answers. Both are pure; the queue answers the questions (keySummaries, redis.ts).

/** What a dead letter's payload type concerns; `unknown` (a type that cannot be read) concerns every reader. */
export type KeyClass = 'users' | 'orders' | 'payments' | 'inventory' | 'unknown'

/** The letter the scripts name a class by (keyPlaceOf in dlq-common.lua). */
export const classLetter: Readonly<Record<KeyClass, string>> = {
  users: 'u',
  orders: 'o',
  payments: 'p',
  inventory: 'i',
  unknown: '?',
}

/** How many entries of `key`, of `class`, are later than `after` (every entry of the key when undefined). */
export interface KeyQuestion {
  readonly class: KeyClass
  readonly key: string
  /** An offset as a decimal string. */
  readonly after?: string | undefined
}

/** The newest entry an answer names. */
export interface NewestDeadLetter {
  /** Null for an entry that has none (a record that was not JSON). */
  readonly eventId: string | null
  readonly partition: number
  readonly offset: string
}

export interface KeyAnswer {
  readonly count: number
  /** The counted entry with the greatest offset; null when count is 0. */
  readonly newest: NewestDeadLetter | null
}

/** What a read tells of its key: present only when count > 0. */
export interface DeadLettered {
  /** Dead letters of the key the row does not reflect. */
  readonly count: number
  readonly newestEventId: string | null
  readonly partition: number
  readonly offset: string
}

/** Most questions one script call takes: a call holds Redis for O(questions × log n). */
export const keyQuestionsMax = 300

/** Keys longer than this (in UTF-8 bytes) are not summarized: no id a read accepts is that long. */
export const summarizedKeyMaxBytes = 400

/** The script's arguments: one (class, key, after) triple per question. */
export function keyArgs(questions: readonly KeyQuestion[]): string[] {
  return questions.flatMap(q => [classLetter[q.class], q.key, q.after ?? ''])
}

/** A summary member, `partition|offset|seq|eventId`, as an answer names it; null for '' or a malformed one. */
export function parseMember(member: string): NewestDeadLetter | null {
  const match = /^(\d+)\|(\d+)\|-?\d+\|(.*)$/s.exec(member)
  if (match === null) return null
  const [, partition, offset, eventId] = match as unknown as [string, string, string, string]
  return { partition: Number(partition), offset, eventId: eventId === '' ? null : eventId }
}

/** The script's flat answer after its state word: (count, member) pairs, one per question. */
export function parseAnswers(flat: readonly (string | number)[]): KeyAnswer[] {
  const answers: KeyAnswer[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const count = Number(flat[i])
    answers.push({ count, newest: count > 0 ? parseMember(String(flat[i + 1])) : null })
  }
  return answers
}

/** The offset of the record a row came from, as the store keeps it (source_offset). */
export type RowOffset = string | undefined

/** What each read route compares: the rows it found, by the offset of their source record. */
export type RowsRead =
  | { readonly reader: 'user'; readonly user: RowOffset }
  | { readonly reader: 'order'; readonly order: RowOffset; readonly payment: RowOffset }
  | { readonly reader: 'inventory' }

/**
 * The questions a read of `key` asks. A state row counts its class's entries later than its own record; an entry
 * of unknown type is compared with the route's main row (the user, the order). An inventory row is a sum of
 * deltas, which a delta missing anywhere in the log leaves wrong: every InventoryAdjusted (or unknown) entry of the
 * sku counts. A row not found (undefined) counts every entry of its class.
 */
export function questionsFor(key: string, rows: RowsRead): KeyQuestion[] {
  switch (rows.reader) {
    case 'user':
      return [
        { class: 'users', key, after: rows.user },
        { class: 'unknown', key, after: rows.user },
      ]
    case 'order':
      return [
        { class: 'orders', key, after: rows.order },
        { class: 'payments', key, after: rows.payment },
        { class: 'unknown', key, after: rows.order },
      ]
    case 'inventory':
      return [
        { class: 'inventory', key },
        { class: 'unknown', key },
      ]
  }
}

/**
 * The questions about the key an event's row is for (GET /events/{eventId}): its table's class against that row
 * (`rowOffset`, undefined when there is no row), and entries of unknown type alike; the inventory's every entry.
 */
export function questionsForTable(
  table: 'users' | 'orders' | 'payments' | 'inventory',
  key: string,
  rowOffset: RowOffset,
): KeyQuestion[] {
  if (table === 'inventory') return questionsFor(key, { reader: 'inventory' })
  return [
    { class: table, key, after: rowOffset },
    { class: 'unknown', key, after: rowOffset },
  ]
}

const laterThan = (a: NewestDeadLetter, b: NewestDeadLetter) => BigInt(a.offset) > BigInt(b.offset)

/** The answers of one read's questions folded: the sum of the counts and the newest entry; undefined when none. */
export function deadLetteredOf(answers: readonly KeyAnswer[]): DeadLettered | undefined {
  let count = 0
  let newest: NewestDeadLetter | null = null
  for (const answer of answers) {
    count += answer.count
    if (answer.newest !== null && (newest === null || laterThan(answer.newest, newest))) newest = answer.newest
  }
  if (count === 0 || newest === null) return undefined
  return { count, newestEventId: newest.eventId, partition: newest.partition, offset: newest.offset }
}
