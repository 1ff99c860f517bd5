export { defaultMaxEventSkewMs, durationText, eventTimeSkew, latestEventTime } from './event-time.ts'
export { clip, type Event, eventIdOf, keyOf, parseEvent, parseRecord, reportLimits } from './parse.ts'
export {
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
