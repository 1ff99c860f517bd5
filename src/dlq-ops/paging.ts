// Paging through the DLQ list without one huge LRANGE. A position is the distance from the tail (1 = the oldest
// entry, LLEN = the newest): new entries are LPUSHed at the head, so the distance of an entry already in the list
// does not change when others arrive, and a cursor keeps pointing where the previous page stopped. (An entry
// removed meanwhile moves the newer ones down by one; a page may then show one entry again or miss one.)
import { UsageError } from './filter.ts'

/** Entries per LRANGE. */
export const scanPageSize = 500
/** Most entries one page of `list` may return. */
export const pageLimitMax = 1000
export const pageLimitDefault = 50
/** Most entries one `list` call looks at before answering with a cursor, however few matched. */
export const scanMaxPerCall = 20_000

/** The cursor text of the entry at `distance` (the next to look at, going from newer to older). */
export const encodeCursor = (distance: number) => `t${distance}`

/** The distance a cursor names; a UsageError when the text is not one. */
export function decodeCursor(text: string): number {
  const match = /^t(\d{1,15})$/.exec(text)
  const distance = match ? Number(match[1]) : 0
  if (distance < 1) throw new UsageError('cursor: not a cursor from a previous page (copy `next` as it is)')
  return distance
}

/** The cursor text of a page of an eventId filter: where in the eventId index the next page starts. */
export const encodeEventCursor = (score: string) => `e${score}`

/** The index position an eventId cursor names; a UsageError when the text is not one. */
export function decodeEventCursor(text: string): string {
  const match = /^e(-?\d{1,17})$/.exec(text)
  if (!match) throw new UsageError('cursor: not a cursor from a previous page of this eventId (copy `next` as it is)')
  return match[1] as string
}

/** The LRANGE arguments reading, newest first, the entries from `distance` down towards the tail. */
export function windowDown(distance: number, size = scanPageSize): { start: number; stop: number; last: number } {
  const last = Math.max(1, distance - size + 1)
  return { start: -distance, stop: -last, last }
}

/** The LRANGE arguments reading the entries from `distance` up towards the head (returned newest first). */
export function windowUp(
  distance: number,
  length: number,
  size = scanPageSize,
): { start: number; stop: number; last: number } {
  const last = Math.min(length, distance + size - 1)
  return { start: -last, stop: -distance, last }
}

/** A page limit from text or number: 1 to pageLimitMax, default pageLimitDefault. */
export function parseLimit(raw: unknown, max = pageLimitMax, fallback = pageLimitDefault): number {
  if (raw === undefined || raw === null || raw === '') return fallback
  const n = typeof raw === 'number' ? raw : /^\d{1,9}$/.test(String(raw)) ? Number(raw) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`limit: must be a whole number from 1 to ${max}`)
  return n
}
