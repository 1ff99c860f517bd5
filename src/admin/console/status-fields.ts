// An event's status read for people, one field at a time (the event status view shows them in a list): pure, so
// unit tests drive it without a DOM.
import { formatNumber, formatPosition, formatTime } from './format.ts'
import type { EventStatus } from './types.ts'

/** One field of an event's status as text: times in the browser's zone, positions as topic/partition@offset. */
export function describeField(status: EventStatus, name: string): string {
  switch (name) {
    case 'at':
    case 'since':
      return formatTime(status[name])
    case 'position':
      return formatPosition(status.position)
    case 'by':
      return status.by
        ? `${status.by.eventId} (${formatTime(status.by.timestamp)}, ${formatPosition(status.by.position)})`
        : '–'
    case 'waitingFor':
      return status.waitingFor
        ? `${status.waitingFor.table} ${status.waitingFor.key} (${status.waitingFor.constraint})`
        : '–'
    case 'lastSeen':
      return status.lastSeen
        ? `${status.lastSeen.table} ${status.lastSeen.key}, ${formatPosition(status.lastSeen.position)}`
        : '–'
    case 'deadLetters':
      return (status.deadLetters ?? [])
        .map(d => `${d.code}: ${d.message} (${formatTime(d.failedAt)}, ${formatPosition(d.position)})`)
        .join('; ')
    case 'deadLettered':
      // The row of the event's key may not be current: records of the key it does not reflect wait in the DLQ.
      return status.deadLettered
        ? `${formatNumber(status.deadLettered.count)} dead letter(s) of its key its row does not reflect; newest ${status.deadLettered.newestEventId ?? '(no eventId)'} at partition ${status.deadLettered.partition}, offset ${status.deadLettered.offset}`
        : '–'
    case 'records':
    case 'deadLetterTotal':
      return formatNumber(status[name])
    default: {
      // The schema is open to more fields than it lists: shown as they came.
      const value = (status as Readonly<Record<string, unknown>>)[name]
      return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value)
    }
  }
}
