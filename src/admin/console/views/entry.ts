// One dead letter: its fields, its payload, how many dead letters its eventId has (GET /admin/dlq/{eventId}),
// and the fix-then-redrive form for a consumer's entry.
import type { Context } from '../context.ts'
import { fixable, positionOf, prettyPayload } from '../dead-letter.ts'
import { byId, h } from '../dom.ts'
import { formatBytes, formatNumber, formatTime, plural } from '../format.ts'
import { ids } from '../ids.ts'
import type { DeadLetter } from '../types.ts'

export class EntryView {
  readonly #context: Context
  readonly #onFix: (eventId: string, payload: object) => Promise<void>
  #shown: DeadLetter | undefined

  constructor(context: Context, onFix: (eventId: string, payload: object) => Promise<void>) {
    this.#context = context
    this.#onFix = onFix
    byId(ids.entryClose, HTMLButtonElement).addEventListener('click', () => this.hide())
    byId(ids.fixForm, HTMLFormElement).addEventListener('submit', event => {
      event.preventDefault()
      this.#context.guarded(() => this.#fix())
    })
  }

  show(entry: DeadLetter): void {
    this.#shown = entry
    const fields: [string, string][] = [
      ['Event id', entry.eventId ?? '–'],
      ['Error', `${entry.error.code}: ${entry.error.message}`],
      ['Failed at', formatTime(entry.failedAt)],
      ['Attempts', formatNumber(entry.attempts)],
      ['Kafka position', positionOf(entry)],
      ['Key', entry.key ?? '–'],
      ['Source', entry.source],
    ]
    if (entry.payloadTruncated && entry.payloadBytes !== undefined) {
      fields.push(['Payload', `cut to the entry cap: ${formatBytes(entry.payloadBytes)} in all`])
    }
    byId(ids.entryFields, HTMLDListElement).replaceChildren(
      ...fields.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]),
    )
    byId(ids.entryPayload, HTMLPreElement).textContent = prettyPayload(entry)
    const canFix = fixable(entry)
    byId(ids.fixForm, HTMLFormElement).hidden = !canFix
    byId(ids.fixPayload, HTMLTextAreaElement).value = canFix ? prettyPayload(entry) : ''
    const others = byId(ids.entryOthers, HTMLParagraphElement)
    others.textContent = ''
    byId(ids.entry, HTMLElement).hidden = false
    const title = byId(ids.entryTitle, HTMLHeadingElement)
    title.textContent = `Dead letter ${entry.eventId ?? positionOf(entry)}`
    title.setAttribute('tabindex', '-1')
    title.focus()
    if (entry.eventId !== null) this.#context.guarded(() => this.#countOthers(entry, entry.eventId ?? ''))
  }

  hide(): void {
    byId(ids.entry, HTMLElement).hidden = true
  }

  /** How many dead letters share the eventId: a fix redrives the newest, the others stay. */
  async #countOthers(entry: DeadLetter, eventId: string): Promise<void> {
    const page = await this.#context.api.eventDeadLetters(eventId, 10)
    if (this.#shown !== entry) return
    const codes = [...new Set(page.entries.map(e => e.error.code))].join(', ')
    byId(ids.entryOthers, HTMLParagraphElement).textContent =
      page.total <= 1
        ? 'The only dead letter of this event id.'
        : `${plural(page.total, 'dead letter', 'dead letters')} of this event id (${codes}).`
  }

  async #fix(): Promise<void> {
    const entry = this.#shown
    if (entry?.eventId == null) return
    let payload: unknown
    try {
      payload = JSON.parse(byId(ids.fixPayload, HTMLTextAreaElement).value)
    } catch (error) {
      throw new Error(`The fixed payload is not JSON: ${error instanceof Error ? error.message : String(error)}`)
    }
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new Error('The fixed payload must be a JSON object (an event)')
    }
    await this.#onFix(entry.eventId, payload)
  }
}
