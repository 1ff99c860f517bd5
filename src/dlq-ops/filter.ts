// Which dead letters an operation is about: the filters of `dlq list|redrive|purge` and of the admin API's query,
// parsed from text (command line, query string, JSON body) into one frozen shape, and matched against entries.
import type { DeadLetter } from '../dlq/index.ts'
import { errorCodes } from '../errors.ts'

export interface DlqFilter {
  /** The event type the payload names (`"type"` of its JSON). */
  readonly type?: string
  /** The error code (SCHEMA_VIOLATION, …). */
  readonly code?: string
  readonly key?: string
  readonly eventId?: string
  readonly source?: DeadLetter['source']
  /** failedAt at or after, ISO-8601. */
  readonly since?: string
  /** failedAt before, ISO-8601. */
  readonly until?: string
}

export const filterKeys = ['type', 'code', 'key', 'eventId', 'source', 'since', 'until'] as const

/** The longest filter value: the DLQ caps eventId and key at 1 KiB, so no longer value can match. */
export const filterValueMaxBytes = 1024

/** Bad input of an admin operation: its message says what is wrong and is shown to the operator as is. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

const units: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * A point in time: ISO-8601 (`2026-01-31`, `2026-01-31T12:00:00Z`) or an age before `now` (`30m`, `2h`, `7d`).
 * Returns the ISO-8601 UTC form, or undefined when the text is neither.
 */
export function parseInstant(text: string, now: number): string | undefined {
  const age = /^(\d{1,9})([smhd])$/.exec(text)
  if (age) return new Date(now - Number(age[1]) * (units[age[2] as string] as number)).toISOString()
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined
  const ms = Date.parse(text)
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString()
}

const knownCodes: ReadonlySet<string> = new Set(errorCodes)

/**
 * The filter the given fields describe; unknown fields are not looked at (the caller checks its own syntax).
 * Throws a UsageError listing every bad field at once.
 */
export function parseFilter(fields: Readonly<Record<string, unknown>>, now = Date.now()): DlqFilter {
  const problems: string[] = []
  const filter: Record<string, string> = {}
  for (const name of filterKeys) {
    const raw = fields[name]
    if (raw === undefined || raw === null || raw === '') continue
    if (typeof raw !== 'string') {
      problems.push(`${name}: must be a string`)
      continue
    }
    if (Buffer.byteLength(raw) > filterValueMaxBytes) {
      problems.push(`${name}: longer than ${filterValueMaxBytes} bytes`)
      continue
    }
    if (name === 'source' && raw !== 'consumer' && raw !== 'producer') {
      problems.push('source: must be consumer or producer')
    } else if (name === 'code' && !knownCodes.has(raw)) {
      problems.push(`code: not an error code; one of ${[...knownCodes].join(', ')}`)
    } else if (name === 'since' || name === 'until') {
      const instant = parseInstant(raw, now)
      if (instant === undefined)
        problems.push(`${name}: expected ISO-8601 (2026-01-31T12:00:00Z) or an age (30m, 2h, 7d)`)
      else filter[name] = instant
    } else {
      filter[name] = raw
    }
  }
  if (filter['since'] && filter['until'] && filter['since'] >= filter['until'])
    problems.push('since: must be before until')
  if (problems.length > 0) throw new UsageError(`bad filter: ${problems.join('; ')}`)
  return Object.freeze(filter) as DlqFilter
}

/**
 * The event type an entry's payload names, or null when the payload is not a JSON object with a string `type`
 * (not JSON, base64, cut to a prefix, or no type).
 */
export function typeOf(letter: DeadLetter): string | null {
  if (letter.payload === null || letter.payloadEncoding !== 'utf8') return null
  if (letter.payloadTruncated) {
    // A prefix is not JSON; the envelope's `type` usually comes early enough to be read from it.
    const found = /"type"\s*:\s*"((?:[^"\\]|\\.){0,200})"/.exec(letter.payload)
    return found ? (found[1] as string) : null
  }
  try {
    const value: unknown = JSON.parse(letter.payload)
    if (typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string') {
      return value.type
    }
  } catch {}
  return null
}

/** Whether the entry passes every field the filter sets. */
export function matches(letter: DeadLetter, filter: DlqFilter): boolean {
  if (filter.code !== undefined && letter.error.code !== filter.code) return false
  if (filter.key !== undefined && letter.key !== filter.key) return false
  if (filter.eventId !== undefined && letter.eventId !== filter.eventId) return false
  if (filter.source !== undefined && letter.source !== filter.source) return false
  if (filter.since !== undefined || filter.until !== undefined) {
    const at = Date.parse(letter.failedAt)
    if (Number.isNaN(at)) return false
    if (filter.since !== undefined && at < Date.parse(filter.since)) return false
    if (filter.until !== undefined && at >= Date.parse(filter.until)) return false
  }
  if (filter.type !== undefined && typeOf(letter) !== filter.type) return false
  return true
}

/** Whether the filter selects nothing in particular (every entry). */
export const isEmptyFilter = (filter: DlqFilter) => filterKeys.every(k => filter[k] === undefined)
