// The event contract, written out again for the fault checker, independently of src/events: which Kafka
// record values are events and which must be dead-lettered, with which code. The rules are the README's
// ("Ids are 1–100 characters, dates ISO-8601, money has at most 2 decimals, unknown fields are refused") with
// the column limits of the seed schema, and the README's "an event dated more than MAX_EVENT_SKEW after its Kafka
// record is dead-lettered"; if this file and the consumer disagree, the checker reports it.

export type InvalidCode = 'INVALID_JSON' | 'SCHEMA_VIOLATION' | 'UNKNOWN_TYPE' | 'EVENT_TIME_SKEW'
export type EventType = 'UserCreated' | 'OrderPlaced' | 'PaymentSettled' | 'InventoryAdjusted'

export interface ValidEvent {
  readonly eventId: string
  readonly type: EventType
  /** The event timestamp in ms since the epoch (what last-writer-wins compares). */
  readonly ts: number
  readonly data: Readonly<Record<string, unknown>>
}

export type Classified = { readonly event: ValidEvent } | { readonly code: InvalidCode; readonly why: string }

type Field = (v: unknown) => boolean

const codePoints = (s: string) => {
  let n = 0
  for (const _ of s) n++
  return n
}
const str = (min: number, max: number) => (v: unknown) =>
  typeof v === 'string' && codePoints(v) >= min && codePoints(v) <= max && !v.includes('\u0000')
// An id has no leading or trailing white space.
const id: Field = v => str(1, 100)(v) && /^\S(.*\S)?$/u.test(v as string)
const text = str(0, 255)
const status = str(1, 50)
const money: Field = v =>
  typeof v === 'number' && Math.abs(v) < 1e13 && Number(v.toFixed(2)) === v /* at most 2 decimals */
const int: Field = v => Number.isInteger(v) && (v as number) >= -2_147_483_648 && (v as number) <= 2_147_483_647

const daysIn = (year: number, month: number) =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31

/** RFC 3339 date-time (as JSON Schema's `date-time`) that is also an instant between years 0001 and 9999. */
export function dateMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || v.length > 40) return undefined
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/.exec(v)
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[]
  if (month === undefined || month < 1 || month > 12 || (day as number) < 1) return undefined
  if ((day as number) > daysIn(year as number, month)) return undefined
  if ((hour as number) > 23 || (minute as number) > 59 || (second as number) > 60) return undefined
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined
  const ms = Date.parse(v)
  if (!Number.isFinite(ms)) return undefined
  const utcYear = new Date(ms).getUTCFullYear()
  return utcYear >= 1 && utcYear <= 9999 ? ms : undefined
}
const date: Field = v => dateMs(v) !== undefined

const shapes: Record<EventType, { required: Record<string, Field>; optional: Record<string, Field> }> = {
  UserCreated: { required: { userId: id, name: text, email: text, createdAt: date }, optional: {} },
  OrderPlaced: { required: { orderId: id, userId: id, total: money, createdAt: date }, optional: { status } },
  PaymentSettled: { required: { orderId: id, status, amount: money, settledAt: date }, optional: {} },
  InventoryAdjusted: { required: { sku: id, delta: int, adjustedAt: date }, optional: { reason: text } },
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function fits(value: Record<string, unknown>, required: Record<string, Field>, optional: Record<string, Field>) {
  for (const [name, ok] of Object.entries(required)) if (!(name in value) || !ok(value[name])) return false
  for (const name of Object.keys(value)) {
    const ok = required[name] ?? optional[name]
    if (ok === undefined || !ok(value[name])) return false
  }
  return true
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** MAX_EVENT_SKEW's default, which every consumer of the fault tests runs with. */
export const maxEventSkewMs = 3_600_000

/**
 * Classifies one record: an event the consumer must apply, or what it must be dead-lettered as. `recordMs` is the
 * record's Kafka timestamp; the records of these tests always carry one (without it the consumer measures the
 * event against its own clock, which the checker cannot know, and the skew rule is not checked).
 */
export function classify(value: Uint8Array | null, recordMs?: number, skewMs = maxEventSkewMs): Classified {
  if (value === null || value.length === 0) return { code: 'INVALID_JSON', why: 'no value' }
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(value))
  } catch {
    return { code: 'INVALID_JSON', why: 'not UTF-8 JSON' }
  }
  if (!isObject(json)) return { code: 'SCHEMA_VIOLATION', why: 'not an object' }
  const type = json['type']
  // A type that is a string but not one of the four is "unknown", whatever else is wrong with the record.
  if (typeof type === 'string' && !(type in shapes)) return { code: 'UNKNOWN_TYPE', why: type.slice(0, 40) }
  const envelope = { eventId: id, type: str(1, 100), timestamp: date, data: isObject }
  if (!fits(json, envelope, {})) return { code: 'SCHEMA_VIOLATION', why: 'envelope' }
  const shape = shapes[type as EventType]
  const data = json['data'] as Record<string, unknown>
  if (!fits(data, shape.required, shape.optional)) return { code: 'SCHEMA_VIOLATION', why: `${type} data` }
  const ts = dateMs(json['timestamp']) as number
  if (recordMs !== undefined && recordMs > 0 && ts > recordMs + skewMs) {
    return { code: 'EVENT_TIME_SKEW', why: `${ts - recordMs} ms after its record` }
  }
  return {
    event: {
      eventId: json['eventId'] as string,
      type: type as EventType,
      ts,
      data,
    },
  }
}
