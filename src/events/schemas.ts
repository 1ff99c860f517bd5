// JSON Schemas of the four event types (TypeBox, compiled once). Limits follow the SQL columns of the reference system
// schema: ids VARCHAR(100), names and emails VARCHAR(255), statuses VARCHAR(50), money DECIMAL(18,2), INT deltas.
import Type, { type Static } from 'typebox'

export const limits = {
  idLength: 100,
  textLength: 255,
  statusLength: 50,
  /**
   * Money is DECIMAL(18,2) in SQL, but a JSON number is a double: below 1e13 every value with 2 decimals
   * survives the round trip exactly, above it cents start to get lost, so that is the limit.
   */
  moneyAbsLimit: 10_000_000_000_000,
  intMin: -2_147_483_648,
  intMax: 2_147_483_647,
} as const

const Id = Type.String({ minLength: 1, maxLength: limits.idLength, pattern: '^\\S(.*\\S)?$' })
const Text = Type.String({ maxLength: limits.textLength })
const Status = Type.String({ minLength: 1, maxLength: limits.statusLength })
const DateTime = Type.String({ format: 'date-time', maxLength: 40 })
const Money = Type.Number({ exclusiveMinimum: -limits.moneyAbsLimit, exclusiveMaximum: limits.moneyAbsLimit })
const Int = Type.Integer({ minimum: limits.intMin, maximum: limits.intMax })

const strict = { additionalProperties: false } as const

export const UserCreatedData = Type.Object({ userId: Id, name: Text, email: Text, createdAt: DateTime }, strict)
export const OrderPlacedData = Type.Object(
  { orderId: Id, userId: Id, total: Money, status: Type.Optional(Status), createdAt: DateTime },
  strict,
)
export const PaymentSettledData = Type.Object(
  { orderId: Id, status: Status, amount: Money, settledAt: DateTime },
  strict,
)
export const InventoryAdjustedData = Type.Object(
  { sku: Id, delta: Int, reason: Type.Optional(Text), adjustedAt: DateTime },
  strict,
)

export const dataSchemas = {
  UserCreated: UserCreatedData,
  OrderPlaced: OrderPlacedData,
  PaymentSettled: PaymentSettledData,
  InventoryAdjusted: InventoryAdjustedData,
} as const

export type EventType = keyof typeof dataSchemas
export const eventTypes = Object.keys(dataSchemas) as EventType[]

/** The envelope without its data: checked first, so an unknown type is reported as such. */
export const Envelope = Type.Object(
  {
    eventId: Id,
    type: Type.String({ minLength: 1, maxLength: limits.idLength }),
    timestamp: DateTime,
    data: Type.Object({}),
  },
  strict,
)

export type UserCreated = Static<typeof UserCreatedData>
export type OrderPlaced = Static<typeof OrderPlacedData>
export type PaymentSettled = Static<typeof PaymentSettledData>
export type InventoryAdjusted = Static<typeof InventoryAdjustedData>
