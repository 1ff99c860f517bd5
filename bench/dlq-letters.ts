// The dead letters of the DLQ benchmark: what the consumer writes (deadLetterOf of src/consumer) for records that
// failed for good, each with a ~300-byte event as its payload. Most are orders whose user never came (one
// eventId each); every `stride`-th is the attack, one InventoryAdjusted eventId sent again and again with other
// deltas, refused as EVENT_ID_CONFLICT. Deterministic: entry n is the same in every run.
import { createHash } from 'node:crypto'
import { deadLetterOf } from '../src/consumer/dead-letters.ts'
import type { DeadLetter } from '../src/dlq/index.ts'
import { PipelineError } from '../src/errors.ts'

export interface LetterPlan {
  /** Entries pushed in all. */
  readonly entries: number
  /** Entries of the one repeated eventId, spread evenly among the others. */
  readonly hot: number
}

export const hotEventId = '7f3c2a9e-5b1d-4c8e-9a2f-0d6b4e8c1a37'
const topic = 'events'
const topicId = 'Vd3pXg1aT1m8Qb2Rz0kLwA'
const start = Date.parse('2025-03-01T00:00:00.000Z')
const encoder = new TextEncoder()

/** Every how many entries one is the hot eventId's (at n % stride === stride - 1: the newest entry is never hot). */
export const strideOf = (plan: LetterPlan) => Math.floor(plan.entries / plan.hot)
export const isHot = (plan: LetterPlan, n: number) => n % strideOf(plan) === strideOf(plan) - 1

/** A UUID-shaped id, deterministic in `n`. */
function uuidOf(kind: string, n: number): string {
  const h = createHash('md5').update(`${kind}:${n}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** The cold eventId of entry n (entries that are not the hot eventId's). */
export const coldEventId = (n: number) => uuidOf('event', n)

function hotRecord(n: number, at: string): { value: string; error: PipelineError } {
  const delta = (n % 41) - 20
  const value = JSON.stringify({
    eventId: hotEventId,
    type: 'InventoryAdjusted',
    timestamp: at,
    data: {
      sku: `sku-${(n % 9973).toString().padStart(5, '0')}-EU-WAREHOUSE-02`,
      delta,
      reason: `cycle count correction after stock-take ${n % 997}, aisle ${n % 31}, bin C-${n % 13}, night shift`,
      adjustedAt: at,
    },
  })
  const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16)
  const error = new PipelineError(
    'EVENT_ID_CONFLICT',
    `eventId ${hotEventId} was already applied as an InventoryAdjusted with another payload (applied digest ${digest('first')}, this record's digest ${digest(value)}); a delta cannot be corrected by re-sending it: send a new event`,
  )
  return { value, error }
}

function coldRecord(n: number, at: string): { value: string; error: PipelineError } {
  const orderId = `order-${uuidOf('order', n)}`
  const userId = `user-${uuidOf('user', n)}`
  const value = JSON.stringify({
    eventId: coldEventId(n),
    type: 'OrderPlaced',
    timestamp: at,
    data: { orderId, userId, total: Math.round(100 + (n % 49_999)) / 100, status: 'pending', createdAt: at },
  })
  const error = new PipelineError(
    'CONSTRAINT_VIOLATION',
    `OrderPlaced ${orderId} violates orders_user_id_fkey: users ${userId} was never stored; it waited 3.0 h as a pending event (PENDING_MAX_AGE)`,
    { constraint: 'orders_user_id_fkey' },
  )
  return { value, error }
}

/** Entry n, as the consumer dead-letters it: at offset n of partition n % 3 of one topic. */
export function letterOf(plan: LetterPlan, n: number): DeadLetter {
  const at = new Date(start + n * 37).toISOString()
  const { value, error } = isHot(plan, n) ? hotRecord(n, at) : coldRecord(n, at)
  const record = {
    topic,
    topicId,
    partition: n % 3,
    offset: BigInt(Math.floor(n / 3)),
    key: encoder.encode(isHot(plan, n) ? `sku-${n % 9973}` : `order-${n}`),
    value: encoder.encode(value),
  }
  return deadLetterOf(record, undefined, error, 1, new Date(start + n * 37 + 3_600_000).toISOString())
}
