// The dead-letter list: the filter form, one page at a time, "View" on each row.
import type { Context } from '../context.ts'
import { entryId, positionOf, typeOf } from '../dead-letter.ts'
import { appendRows, byId, fillRows, h } from '../dom.ts'
import { filterOf, pageLimit } from '../filter.ts'
import { entryCount, formatNumber, formatTime, truncate } from '../format.ts'
import { ids } from '../ids.ts'
import type { DeadLetter, Filter } from '../types.ts'

export class DeadLettersView {
  readonly #context: Context
  readonly #onView: (entry: DeadLetter) => void
  /** Whether a search ran since the page loaded: the first visit searches with the empty filter. */
  loaded = false
  /** The filter of the shown pages (a next page keeps it, even when the form changed since). */
  #filter: Filter = {}
  #next: string | null = null
  /** The entries on the page by entryId, for the View buttons. */
  readonly #entries = new Map<string, DeadLetter>()

  constructor(context: Context, onView: (entry: DeadLetter) => void) {
    this.#context = context
    this.#onView = onView
    byId(ids.dlqFilter, HTMLFormElement).addEventListener('submit', event => {
      event.preventDefault()
      this.#context.guarded(() => this.search())
    })
    byId(ids.dlqNext, HTMLButtonElement).addEventListener('click', () =>
      this.#context.guarded(() => this.search(this.#next)),
    )
  }

  /** The filter form as the admin API's filter. */
  currentFilter(): Filter {
    const form = new FormData(byId(ids.dlqFilter, HTMLFormElement))
    return filterOf(name => String(form.get(name) ?? ''))
  }

  /** The first page of the form's filter, or the next page (`cursor`) of the shown filter. */
  async search(cursor: string | null = null): Promise<void> {
    this.loaded = true
    const first = cursor === null
    if (first) this.#filter = this.currentFilter()
    const limit = pageLimit(String(new FormData(byId(ids.dlqFilter, HTMLFormElement)).get('limit') ?? ''))
    const page = await this.#context.api.deadLetters(this.#filter, limit, cursor)
    if (first) this.#entries.clear()
    const rows = page.entries.map(entry => this.#row(entry))
    const table = byId(ids.dlqTable, HTMLTableElement)
    if (first) fillRows(table, rows)
    else appendRows(table, rows)
    byId(ids.dlqCount, HTMLParagraphElement).textContent =
      `${entryCount(page.total)} in the dead-letter queue; showing ${formatNumber(this.#entries.size)} that match.`
    this.#next = page.next
    byId(ids.dlqNext, HTMLButtonElement).hidden = page.next === null
  }

  /** Says what a purge did, in place of the count line. */
  say(text: string): void {
    byId(ids.dlqCount, HTMLParagraphElement).textContent = text
  }

  #row(entry: DeadLetter): HTMLTableRowElement {
    const id = entryId(entry)
    this.#entries.set(id, entry)
    return h(
      'tr',
      {},
      h('td', {}, formatTime(entry.failedAt)),
      h('td', { className: 'mono' }, entry.eventId ?? '–'),
      h('td', {}, typeOf(entry)),
      h('td', { className: 'mono' }, entry.key === null ? '–' : truncate(entry.key, 60)),
      h('td', {}, entry.error.code),
      h('td', {}, entry.source),
      h('td', { className: 'mono' }, positionOf(entry)),
      h(
        'td',
        {},
        h(
          'button',
          { type: 'button', 'aria-label': `View ${entry.eventId ?? id}`, onclick: () => this.#onView(entry) },
          'View',
        ),
      ),
    )
  }
}
