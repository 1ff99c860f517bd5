export { clip, type Event, eventIdOf, keyOf, parseEvent, parseRecord, reportLimits } from './parse.ts'
export {
  type EventType,
  eventTypes,
  type InventoryAdjusted,
  limits,
  type OrderPlaced,
  type PaymentSettled,
  type UserCreated,
} from './schemas.ts'
