// The event lookup: what became of one eventId, each field of its status as text.
import type { Context } from '../context.ts'
import { byId, h } from '../dom.ts'
import { ids } from '../ids.ts'
import { describeField } from '../status-fields.ts'

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
