// Reading the DLQ: pages of entries matching a filter (newest first), the entries of one eventId (from the
// index), and figures over the whole list. Every read of the list is a bounded LRANGE page.
import type { DeadLetter, DeadLetterQueue, StoredLetter } from '../dlq/index.ts'
import { type DlqFilter, matches, typeOf } from './filter.ts'
import { decodeCursor, encodeCursor, scanMaxPerCall, scanPageSize, windowDown, windowUp } from './paging.ts'

export interface Page {
  readonly entries: DeadLetter[]
  /** Where the next page starts; null when the list has nothing older to look at. */
  readonly next: string | null
  /** Entries in the DLQ (all of them, whatever the filter). */
  readonly total: number
}

export interface Stats {
  readonly total: number
  readonly byCode: Record<string, number>
  readonly byType: Record<string, number>
  /** failedAt of the oldest and newest entries (by failedAt, not by position). */
  readonly oldest: string | null
  readonly newest: string | null
}

/** The byType bucket of entries whose payload names no type. */
export const noType = '(none)'

/**
 * Up to `limit` entries matching `filter`, newest first, starting at `cursor` (or the newest entry). An eventId
 * filter reads the index; otherwise the list is scanned in pages, at most scanMaxPerCall entries per call: then
 * `next` continues the scan even when the page holds fewer than `limit` entries.
 */
export async function listPage(dlq: DeadLetterQueue, filter: DlqFilter, limit: number, cursor?: string): Promise<Page> {
  const total = await dlq.length()
  if (filter.eventId !== undefined) {
    const skip = cursor === undefined ? 0 : decodeCursor(cursor) - 1
    const found = (await dlq.findByEventId(filter.eventId)).filter(l => matches(l, filter))
    const entries = found.slice(skip, skip + limit)
    return { entries, next: skip + limit < found.length ? encodeCursor(skip + limit + 1) : null, total }
  }
  let distance = cursor === undefined ? total : Math.min(decodeCursor(cursor), total)
  const entries: DeadLetter[] = []
  let scanned = 0
  while (distance >= 1 && entries.length < limit && scanned < scanMaxPerCall) {
    const window = windowDown(distance)
    const page = await dlq.range(window.start, window.stop)
    for (const { letter } of page) {
      distance--
      scanned++
      if (matches(letter, filter)) {
        entries.push(letter)
        if (entries.length === limit) break
      }
    }
    if (page.length === 0) break
  }
  return { entries, next: distance >= 1 ? encodeCursor(distance) : null, total }
}

/**
 * Every entry matching `filter`, oldest first, in bounded pages, up to the entries the list held at the start
 * (entries pushed meanwhile are newer than the scan's end). `stop` returning true ends the scan.
 */
export async function* scanOldestFirst(
  dlq: DeadLetterQueue,
  filter: DlqFilter,
  pageSize = scanPageSize,
): AsyncGenerator<StoredLetter> {
  if (filter.eventId !== undefined) {
    for (const stored of (await dlq.findStoredByEventId(filter.eventId)).reverse()) {
      if (matches(stored.letter, filter)) yield stored
    }
    return
  }
  const length = await dlq.length()
  for (let distance = 1; distance <= length; ) {
    const window = windowUp(distance, length, pageSize)
    const page = await dlq.range(window.start, window.stop)
    if (page.length === 0) return
    for (let i = page.length - 1; i >= 0; i--) {
      const stored = page[i] as StoredLetter
      if (matches(stored.letter, filter)) yield stored
    }
    distance = window.last + 1
  }
}

/**
 * Every entry matching `filter`, newest first, in bounded pages. Removing entries already yielded does not move
 * the ones still ahead (they are older, nearer the tail), so a caller may remove as it goes (purge).
 */
export async function* scanNewestFirst(
  dlq: DeadLetterQueue,
  filter: DlqFilter,
  pageSize = scanPageSize,
): AsyncGenerator<StoredLetter> {
  if (filter.eventId !== undefined) {
    for (const stored of await dlq.findStoredByEventId(filter.eventId)) {
      if (matches(stored.letter, filter)) yield stored
    }
    return
  }
  for (let distance = await dlq.length(); distance >= 1; ) {
    const window = windowDown(distance, pageSize)
    const page = await dlq.range(window.start, window.stop)
    if (page.length === 0) return
    for (const stored of page) if (matches(stored.letter, filter)) yield stored
    distance = window.last - 1
  }
}

/** Counts by code and by type, the oldest and newest failedAt, and the total, over the whole list. */
export async function stats(dlq: DeadLetterQueue): Promise<Stats> {
  const tally = emptyTally()
  for await (const { letter } of scanOldestFirst(dlq, {})) addToTally(tally, letter)
  return tally
}

type Tally = { total: number; byCode: Record<string, number>; byType: Record<string, number> } & {
  oldest: string | null
  newest: string | null
}

// Objects without a prototype: a payload naming its type "__proto__" is counted, not assigned to the prototype.
export const emptyTally = (): Tally => ({
  total: 0,
  byCode: Object.create(null),
  byType: Object.create(null),
  oldest: null,
  newest: null,
})

/** Adds one entry to the figures (pure, so the figures can be checked without Redis). */
export function addToTally(tally: Tally, letter: DeadLetter): void {
  tally.total++
  tally.byCode[letter.error.code] = (tally.byCode[letter.error.code] ?? 0) + 1
  const type = (typeOf(letter) ?? noType).slice(0, 200)
  tally.byType[type] = (tally.byType[type] ?? 0) + 1
  if (tally.oldest === null || letter.failedAt < tally.oldest) tally.oldest = letter.failedAt
  if (tally.newest === null || letter.failedAt > tally.newest) tally.newest = letter.failedAt
}
