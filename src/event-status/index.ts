// What became of one event: stored, pending, dead-lettered or unknown, as the read API, the console and the CLI
// tell it.

export { DeadLetteredBody, EventStatusBody } from './schema.ts'
export {
  type DeadLetterSample,
  type DeadLetterView,
  deadLettersOf,
  deadLettersShown,
  decideStatus,
  type EventStatus,
  type EventStatusSources,
  eventStatus,
  keyQuestionsOf,
  type Position,
  type StatusWord,
} from './status.ts'
