// Reading the DLQ: pages of entries matching a filter (newest first), the entries of one eventId (from the
// index), and figures over the whole list. Every read of the list is a bounded LRANGE page.
import { type DeadLetter, type DeadLetterQueue, type DlqTally, eventPageMax, type StoredLetter } from '../dlq/index.ts'
import { type DlqFilter, matches } from './filter.ts'
import {
  decodeCursor,
  decodeEventCursor,
  encodeCursor,
  encodeEventCursor,
  scanMaxPerCall,
  scanPageSize,
  windowDown,
  windowUp,
} from './paging.ts'

export interface Page {
  readonly entries: DeadLetter[]
  /** Where the next page starts; null when the list has nothing older to look at. */
  readonly next: string | null
  /** Entries in the DLQ (all of them, whatever the filter). */
  readonly total: number
}

/** Counts by code and by type, the total, and the failedAt of the oldest and newest entries by position. */
export type Stats = DlqTally

/** The byType bucket of entries whose payload names no type (the tally's Lua names it so). */
export const noType = '(none)'

/**
 * Up to `limit` entries matching `filter`, newest first, starting at `cursor` (or the newest entry). An eventId
 * filter reads the index; otherwise the list is scanned in pages, at most scanMaxPerCall entries per call: then
 * `next` continues the scan even when the page holds fewer than `limit` entries.
 */
export async function listPage(dlq: DeadLetterQueue, filter: DlqFilter, limit: number, cursor?: string): Promise<Page> {
  const total = await dlq.length()
  if (filter.eventId !== undefined) return eventIdPage(dlq, filter.eventId, filter, limit, total, cursor)
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
 * The page of an eventId filter, read from the eventId index a page at a time (never the list), at most
 * scanMaxPerCall entries looked at per call; its cursor is the index's (`e` and a score), so entries pushed or
 * removed meanwhile never shift it.
 */
async function eventIdPage(
  dlq: DeadLetterQueue,
  eventId: string,
  filter: DlqFilter,
  limit: number,
  total: number,
  cursor: string | undefined,
): Promise<Page> {
  let after = cursor === undefined ? undefined : decodeEventCursor(cursor)
  const entries: DeadLetter[] = []
  for (let scanned = 0; scanned < scanMaxPerCall; ) {
    const page = await dlq.eventPage(eventId, Math.min(eventPageMax, scanMaxPerCall - scanned), after)
    for (const [i, found] of page.entries.entries()) {
      scanned++
      after = found.after
      if (!matches(found.letter, filter)) continue
      entries.push(found.letter)
      if (entries.length === limit) {
        const more = page.next !== null || i < page.entries.length - 1
        return { entries, next: more ? encodeEventCursor(after) : null, total }
      }
    }
    if (page.next === null) return { entries, next: null, total }
  }
  return { entries, next: after === undefined ? null : encodeEventCursor(after), total }
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
    for await (const stored of dlq.eventEntries(filter.eventId, 'oldest')) {
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
    for await (const stored of dlq.eventEntries(filter.eventId)) {
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

/**
 * Counts by code and by type, the oldest and newest failedAt, and the total: read from the counts the DLQ keeps
 * (O(1) however long the list), not by scanning it.
 */
export async function stats(dlq: DeadLetterQueue): Promise<Stats> {
  return dlq.tally()
}
