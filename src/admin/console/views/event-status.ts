// The event lookup: what became of one eventId, each field of its status as text.
import type { Context } from '../context.ts'
import { byId, h } from '../dom.ts'
import { formatNumber, formatPosition, formatTime } from '../format.ts'
import { ids } from '../ids.ts'
import type { EventStatus } from '../types.ts'

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

export class EventStatusView {
  readonly #context: Context

  constructor(context: Context) {
    this.#context = context
    byId(ids.eventForm, HTMLFormElement).addEventListener('submit', event => {
      event.preventDefault()
      this.#context.guarded(() => this.lookUp(byId(ids.eventId, HTMLInputElement).value.trim()))
    })
  }

  async lookUp(eventId: string): Promise<void> {
    const status = await this.#context.api.eventStatus(eventId)
    const names = Object.keys(status).filter(name => name !== 'status' && name !== 'eventId')
    byId(ids.eventResult, HTMLDivElement).replaceChildren(
      h(
        'div',
        {},
        h('p', {}, 'Status: ', h('strong', { className: `status-${status.status}` }, status.status)),
        h(
          'dl',
          {},
          names.flatMap(name => [h('dt', {}, name), h('dd', {}, describeField(status, name))]),
        ),
      ),
    )
  }
}
