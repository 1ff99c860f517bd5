// parse(raw) → Event, or a PipelineError that says exactly what is wrong. Used by the producer on request
// bodies and by the consumer on every Kafka record, whoever produced it.
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Format } from 'typebox/format'
import { PipelineError } from '../errors.ts'
import {
  dataSchemas,
  Envelope,
  type EventType,
  eventTypes,
  type InventoryAdjusted,
  limits,
  type OrderPlaced,
  type PaymentSettled,
  type UserCreated,
} from './schemas.ts'

interface Base<T extends EventType, D> {
  readonly eventId: string
  readonly type: T
  /** ISO-8601 UTC with milliseconds, normalised so that string order is time order. */
  readonly timestamp: string
  readonly data: D
}

export type Event =
  | Base<'UserCreated', UserCreated>
  | Base<'OrderPlaced', OrderPlaced>
  | Base<'PaymentSettled', PaymentSettled>
  | Base<'InventoryAdjusted', InventoryAdjusted>

// TypeBox checks the `date-time` format with three regular expressions per date; the dates the producer publishes
// are canonical (isCanonicalDate), which is a strict subset of RFC 3339 checked with a few character codes, so
// those skip the expressions. Every other string gets TypeBox's own check, so what is accepted does not change.
Format.Set('date-time', value => isCanonicalDate(value) || Format.IsDateTime(value))

const envelope = shapeOf(Envelope)
const data: Readonly<Record<EventType, Shape>> = {
  UserCreated: shapeOf(dataSchemas.UserCreated),
  OrderPlaced: shapeOf(dataSchemas.OrderPlaced),
  PaymentSettled: shapeOf(dataSchemas.PaymentSettled),
  InventoryAdjusted: shapeOf(dataSchemas.InventoryAdjusted),
}

const knownTypes: ReadonlySet<string> = new Set(eventTypes)
const dateFields = { createdAt: true, settledAt: true, adjustedAt: true } as const
const moneyFields = { total: true, amount: true } as const

type Checker = {
  Check(value: unknown): boolean
  Errors(value: unknown): Iterable<{ instancePath: string; message: string; params?: unknown }>
}

/**
 * How much of a bad input an error report may carry: at most `problems` problems, each quoting at most `quote`
 * characters of the input (a field name). Reports go back to clients, into logs and into the DLQ, so their size
 * must not grow with the input.
 */
export const reportLimits = { problems: 20, quote: 100 } as const

/**
 * Fields an object may have beyond those its schema defines before it is refused without looking further: a
 * report on a few unknown fields is useful, a walk through 95,000 of them is an attack.
 */
const extraFieldMargin = 8

/** At most `max` characters of `text`, with an ellipsis when something was cut. */
export function clip(text: string, max: number = reportLimits.quote): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

interface Shape {
  /** Checks the fields the schema defines, and only those: unknown fields are found by addViolations. */
  checker: Checker
  /** The fields the schema defines; any other one is unknown. */
  fields: ReadonlySet<string>
}

/**
 * The shape of an object schema. Its checker is compiled without `additionalProperties: false`: addViolations
 * finds unknown fields itself, from `fields`, before the checker runs, and the compiled test of that keyword (a
 * list of the object's names and a regular expression per name) cost as much as all the other checks together.
 */
function shapeOf(schema: TSchema & { properties: object; additionalProperties?: unknown }): Shape {
  const { additionalProperties: _, ...known } = schema
  return { checker: Compile(known as TSchema), fields: new Set(Object.keys(schema.properties)) }
}

/** One thing wrong with an event: where (a JSON pointer) and what. */
interface Problem {
  path: string
  why: string
}

/**
 * Adds the schema violations of `value` (an object) to `problems`; a valid value (nearly all of them) costs a
 * bounded key count and one check. Unknown fields are found here rather than by the validator, whose error list
 * is capped (at 8) and would let unknown fields crowd out, or hide, the real problems.
 */
function addViolations(problems: Problem[], shape: Shape, value: object, prefix: string): void {
  const maxFields = shape.fields.size + extraFieldMargin
  const unknown: string[] = []
  let count = 0
  for (const name in value) {
    if (++count > maxFields) {
      problems.push({
        path: prefix || '/',
        why: `has more than ${maxFields} fields (the schema defines ${shape.fields.size})`,
      })
      break
    }
    if (!shape.fields.has(name)) unknown.push(name)
  }
  if (count <= maxFields && unknown.length === 0 && shape.checker.Check(value)) return
  for (const name of unknown.slice(0, reportLimits.problems)) {
    problems.push({ path: `${prefix}/${clip(name)}`, why: 'unknown field' })
  }
  if (count > maxFields) return
  const known: Record<string, unknown> = {}
  for (const name in value) if (shape.fields.has(name)) known[name] = (value as Record<string, unknown>)[name]
  const before = problems.length
  if (!shape.checker.Check(known)) problems.push(...violations(shape.checker, known, prefix))
  // A value the validator refused is never accepted, even when no problem could be named.
  if (problems.length === before && unknown.length === 0) problems.push({ path: prefix || '/', why: 'is invalid' })
}

function violations(checker: Checker, value: unknown, prefix: string): Problem[] {
  const out = new Map<string, Problem>()
  const add = (path: string, why: string) => out.set(`${path}: ${why}`, { path, why })
  for (const e of checker.Errors(value)) {
    const params = e.params as { requiredProperties?: string[] } | undefined
    if (params?.requiredProperties) {
      for (const name of params.requiredProperties) add(`${prefix}${e.instancePath}/${name}`, 'is required')
    } else if (e.message !== 'schema is false') {
      add(`${prefix}${e.instancePath}` || '/', e.message)
    }
  }
  return [...out.values()]
}

/** The error for `problems`, listing at most reportLimits.problems of them. */
function schemaError(problems: Problem[]): PipelineError {
  const shown = problems.slice(0, reportLimits.problems)
  const more = problems.length - shown.length
  const tail = more > 0 ? `; and ${more} more` : ''
  return new PipelineError(
    'SCHEMA_VIOLATION',
    `invalid event: ${shown.map(p => `${p.path}: ${p.why}`).join('; ')}${tail}`,
    {
      paths: shown.map(p => p.path),
    },
  )
}

// Two digits at `at`, or -1.
function twoDigits(value: string, at: number): number {
  const a = value.charCodeAt(at) - 48
  const b = value.charCodeAt(at + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/**
 * Whether `value` is already what normaliseDate returns: `YYYY-MM-DDTHH:MM:SS.sssZ` with a year from 0001, a
 * month 01–12, a day 01–28 (every month has it, so nothing can roll over), hours 00–23, minutes and seconds 00–59.
 * The producer publishes every date in this form, so the consumer checks most dates without building a Date.
 */
function isCanonicalDate(value: string): boolean {
  if (value.length !== 24 || value.charCodeAt(23) !== 90 /* Z */) return false
  if (value[4] !== '-' || value[7] !== '-' || value[10] !== 'T' || value[13] !== ':' || value[16] !== ':') return false
  if (value[19] !== '.') return false
  const century = twoDigits(value, 0)
  const year = twoDigits(value, 2)
  if (century < 0 || year < 0 || century + year === 0) return false
  const month = twoDigits(value, 5)
  const day = twoDigits(value, 8)
  if (month < 1 || month > 12 || day < 1 || day > 28) return false
  const hour = twoDigits(value, 11)
  const minute = twoDigits(value, 14)
  const second = twoDigits(value, 17)
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false
  const ms = value.charCodeAt(22) - 48
  return twoDigits(value, 20) >= 0 && ms >= 0 && ms <= 9
}

/**
 * Whether `value` has at most 2 decimal places: it is the double nearest to n/100 for some integer n, which is
 * what the decimal rounding of toFixed(2) finds. Below the money limit, when value is such a double, value * 100
 * is within a few units in the last place of n, so Math.round finds the same n and the division gives value
 * back: that cheap test answers yes only when toFixed does, and toFixed decides every other case.
 */
function isWholeCents(value: number): boolean {
  return Math.round(value * 100) / 100 === value || Number(value.toFixed(2)) === value
}

/** A date-time that is also a real instant within DATETIME2's range, normalised to ISO UTC with ms. */
function normaliseDate(value: string, field: string | undefined, problems: Problem[]): string {
  if (isCanonicalDate(value)) return value
  const path = field === undefined ? '/timestamp' : `/data/${field}`
  const ms = Date.parse(value)
  const year = Number.isFinite(ms) ? new Date(ms).getUTCFullYear() : Number.NaN
  if (!(year >= 1 && year <= 9999)) {
    problems.push({ path, why: 'is not a real date between years 0001 and 9999' })
    return value
  }
  return new Date(ms).toISOString()
}

/** Validates an already-decoded JSON value as an event. Throws PipelineError (never retryable). */
export function parseEvent(value: unknown): Event {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PipelineError('SCHEMA_VIOLATION', 'invalid event: an event is a JSON object', { paths: ['/'] })
  }
  const v = value as Record<string, unknown>
  const type = v['type']
  if (typeof type === 'string' && !knownTypes.has(type)) {
    throw new PipelineError(
      'UNKNOWN_TYPE',
      `unknown event type ${JSON.stringify(clip(type, limits.idLength))}; expected one of ${eventTypes.join(', ')}`,
      { paths: ['/type'] },
    )
  }
  const problems: Problem[] = []
  addViolations(problems, envelope, v, '')
  if (typeof type === 'string' && knownTypes.has(type) && typeof v['data'] === 'object' && v['data'] !== null) {
    addViolations(problems, data[type as EventType], v['data'] as object, '/data')
  }
  if (problems.length > 0) throw schemaError(problems)

  const body = { ...(v['data'] as Record<string, unknown>) }
  const timestamp = normaliseDate(v['timestamp'] as string, undefined, problems)
  if ((v['eventId'] as string).includes('\u0000')) problems.push({ path: '/eventId', why: 'contains a NUL character' })
  for (const field in body) {
    const fieldValue = body[field]
    // PostgreSQL and SQL Server text columns cannot hold U+0000; refuse it here rather than fail in the store.
    if (typeof fieldValue === 'string' && fieldValue.includes('\u0000')) {
      problems.push({ path: `/data/${field}`, why: 'contains a NUL character' })
    }
    if (field in dateFields) body[field] = normaliseDate(fieldValue as string, field, problems)
    if (field in moneyFields && !isWholeCents(fieldValue as number)) {
      problems.push({ path: `/data/${field}`, why: 'has more than 2 decimal places' })
    }
  }
  if (problems.length > 0) throw schemaError(problems)
  return { eventId: v['eventId'] as string, type: type as EventType, timestamp, data: body } as Event
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes a Kafka record value (bytes) and validates it. */
export function parseRecord(value: Uint8Array | null | undefined): Event {
  if (value === null || value === undefined || value.length === 0) {
    throw new PipelineError('INVALID_JSON', 'record has no value')
  }
  let text: string
  try {
    text = utf8.decode(value)
  } catch {
    throw new PipelineError('INVALID_JSON', 'record value is not valid UTF-8')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new PipelineError('INVALID_JSON', `record value is not JSON: ${clip((error as Error).message, 200)}`)
  }
  return parseEvent(json)
}

/** The Kafka key of an event: per-key order holds because a key always lands on the same partition. */
export function keyOf(event: Event): string {
  switch (event.type) {
    case 'UserCreated':
      return event.data.userId
    case 'OrderPlaced':
    case 'PaymentSettled':
      return event.data.orderId
    case 'InventoryAdjusted':
      return event.data.sku
  }
}

/** Best-effort eventId of something that failed to parse, for logs and the DLQ. */
export function eventIdOf(value: unknown): string | null {
  if (typeof value === 'object' && value !== null && 'eventId' in value) {
    const id = (value as { eventId: unknown }).eventId
    if (typeof id === 'string') return id.slice(0, 200)
  }
  return null
}
