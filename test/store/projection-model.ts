// The reference model of the projection: what SQL must hold after a log, read one record at a time with the
// written rules (docs/architecture.md, "The projection is a function of the log"). It imports nothing from src/
// on purpose: it is the specification the store is held to, small enough to check by reading.
//
// A log is a sequence of steps: a record (its Kafka coordinates, and for a redriven copy the coordinates of the
// record it copies), or an expiry (every pending order past its horizon at that point).

export interface Coords {
  readonly partition: number
  readonly offset: number
}

export type ModelEvent =
  | {
      type: 'UserCreated'
      eventId: string
      timestamp: string
      data: { userId: string; name: string; email: string; createdAt: string }
    }
  | {
      type: 'OrderPlaced'
      eventId: string
      timestamp: string
      data: { orderId: string; userId: string; total: number; status: string; createdAt: string }
    }
  | {
      type: 'PaymentSettled'
      eventId: string
      timestamp: string
      data: { orderId: string; status: string; amount: number; settledAt: string }
    }
  | {
      type: 'InventoryAdjusted'
      eventId: string
      timestamp: string
      data: { sku: string; delta: number; reason: string; adjustedAt: string }
    }

export type Step =
  | {
      readonly kind: 'record'
      readonly at: Coords
      readonly origin?: Coords
      /** The Kafka record's timestamp, ms since the epoch. */
      readonly recordTs: number
      readonly event: ModelEvent
    }
  | { readonly kind: 'expire' }

/** MAX_EVENT_SKEW as the model applies it: an event dated further ahead of its record is dead-lettered. */
export const maxEventSkewMs = 3_600_000

export interface DeadLetter {
  readonly at: Coords
  readonly code: 'EVENT_ID_CONFLICT' | 'CONSTRAINT_VIOLATION' | 'EVENT_TIME_SKEW'
}

/** A row and the position of the record that wrote it. */
interface Held<T> {
  readonly value: T
  readonly ts: string
  readonly position: Coords
}

export interface Projection {
  /** userId → [name, email, createdAt] */
  readonly users: Map<string, string>
  /** orderId → [userId, total, status, createdAt] */
  readonly orders: Map<string, string>
  /** orderId → [status, amount, settledAt] */
  readonly payments: Map<string, string>
  /** sku → [quantity, lastAdjustedAt] */
  readonly inventory: Map<string, string>
  /** Pending orders by the coordinates of their Kafka record, `partition/offset`. */
  readonly pending: Set<string>
  /** `partition/offset code`, one per dead-lettered record. */
  readonly deadLetters: Set<string>
}

export const coordsText = (c: Coords) => `${c.partition}/${c.offset}`

/**
 * Which of two versions of one key is newer: the later event timestamp; on equal timestamps the record further
 * along the log — the greater offset within one partition; across partitions (a key moved by a partition-count
 * change, or a copy redriven elsewhere) the greater partition number. Equal positions: the one seen last.
 */
export function newer(a: { ts: string; position: Coords }, b: { ts: string; position: Coords }): boolean {
  if (a.ts !== b.ts) return a.ts > b.ts
  if (a.position.partition !== b.position.partition) return a.position.partition > b.position.partition
  return a.position.offset >= b.position.offset
}

const money = (n: number) => n.toFixed(2)

/** Reads the log one step at a time and returns what SQL and the DLQ must hold afterwards. */
export function project(log: readonly Step[]): Projection {
  const users = new Map<string, Held<string>>()
  const orders = new Map<string, Held<string>>()
  const payments = new Map<string, Held<string>>()
  const inventory = new Map<string, { quantity: number; last: string }>()
  const ledger = new Map<string, string>()
  const pending = new Map<
    string,
    { at: Coords; position: Coords; ts: string; orderId: string; userId: string; value: string }
  >()
  const deadLetters = new Set<string>()

  const write = (table: Map<string, Held<string>>, key: string, row: Held<string>) => {
    const current = table.get(key)
    if (current === undefined || newer(row, current)) table.set(key, row)
  }

  for (const step of log) {
    if (step.kind === 'expire') {
      for (const [id, p] of pending) {
        const current = orders.get(p.orderId)
        const superseded = current !== undefined && newer(current, { ts: p.ts, position: p.position })
        if (!superseded) deadLetters.add(`${coordsText(p.at)} CONSTRAINT_VIOLATION`)
        pending.delete(id)
      }
      continue
    }
    const { event, at } = step
    // An event dated too far ahead of its own record is refused whatever it is: no clock may freeze a key.
    if (Date.parse(event.timestamp) > step.recordTs + maxEventSkewMs) {
      deadLetters.add(`${coordsText(at)} EVENT_TIME_SKEW`)
      continue
    }
    // Where the record first entered the log: a redriven copy keeps the position of the record it copies.
    const position = step.origin ?? at
    const ts = event.timestamp
    switch (event.type) {
      case 'UserCreated': {
        const d = event.data
        write(users, d.userId, { value: [d.name, d.email, d.createdAt].join('|'), ts, position })
        // The user's pending orders are applied now, each by the same rule as any order.
        for (const [id, p] of pending) {
          if (p.userId !== d.userId) continue
          write(orders, p.orderId, { value: p.value, ts: p.ts, position: p.position })
          pending.delete(id)
        }
        break
      }
      case 'OrderPlaced': {
        const d = event.data
        const value = [d.userId, money(d.total), d.status, d.createdAt].join('|')
        if (users.has(d.userId)) write(orders, d.orderId, { value, ts, position })
        else if (!pending.has(coordsText(at))) {
          pending.set(coordsText(at), { at, position, ts, orderId: d.orderId, userId: d.userId, value })
        }
        break
      }
      case 'PaymentSettled': {
        const d = event.data
        write(payments, d.orderId, { value: [d.status, money(d.amount), d.settledAt].join('|'), ts, position })
        break
      }
      case 'InventoryAdjusted': {
        const d = event.data
        const payload = [d.sku, d.delta, d.reason, d.adjustedAt].join('|')
        const first = ledger.get(event.eventId)
        if (first === undefined) {
          ledger.set(event.eventId, payload)
          const row = inventory.get(d.sku) ?? { quantity: 0, last: d.adjustedAt }
          inventory.set(d.sku, {
            quantity: row.quantity + d.delta,
            // biome-ignore lint/complexity/useMathMinMax: ISO-8601 texts, compared as text
            last: d.adjustedAt > row.last ? d.adjustedAt : row.last,
          })
        } else if (first !== payload) {
          deadLetters.add(`${coordsText(at)} EVENT_ID_CONFLICT`)
        }
        break
      }
    }
  }

  const values = (table: Map<string, Held<string>>) => new Map([...table].map(([k, v]) => [k, v.value]))
  return {
    users: values(users),
    orders: values(orders),
    payments: values(payments),
    inventory: new Map([...inventory].map(([sku, r]) => [sku, `${r.quantity}|${r.last}`])),
    pending: new Set(pending.keys()),
    deadLetters,
  }
}
