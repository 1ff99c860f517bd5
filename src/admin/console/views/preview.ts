// The dry-run panel that redrive and purge share: what would change, and a confirm button that does it.
import type { Context } from '../context.ts'
import { byId, h } from '../dom.ts'
import { entryCount, formatNumber } from '../format.ts'
import { ids } from '../ids.ts'

/** At most this many eventIds are listed; the rest is counted. */
const listed = 50

export type Kind = 'redrive' | 'purge'

export class PreviewPanel {
  readonly #context: Context
  /** What the confirm button does; cleared once used or cancelled, so a second click does nothing. */
  #confirmed: (() => Promise<void>) | undefined

  constructor(context: Context) {
    this.#context = context
    byId(ids.previewCancel, HTMLButtonElement).addEventListener('click', () => this.hide())
    byId(ids.previewConfirm, HTMLButtonElement).addEventListener('click', () =>
      this.#context.guarded(async () => {
        const action = this.#confirmed
        this.hide()
        await action?.()
      }),
    )
  }

  show(kind: Kind, count: number, shownIds: readonly string[], action: () => Promise<void>): void {
    this.#confirmed = action
    byId(ids.previewTitle, HTMLHeadingElement).textContent =
      kind === 'redrive' ? 'Redrive preview (dry run)' : 'Purge preview (dry run)'
    byId(ids.previewSummary, HTMLParagraphElement).textContent =
      `${entryCount(count)} would be ${kind === 'redrive' ? 'sent back to Kafka' : 'removed for good'}. ` +
      'Nothing has changed yet.'
    const list = byId(ids.previewList, HTMLUListElement)
    list.replaceChildren(...shownIds.slice(0, listed).map(id => h('li', { className: 'mono' }, id)))
    if (shownIds.length > listed) list.append(h('li', {}, `… and ${formatNumber(shownIds.length - listed)} more`))
    const confirm = byId(ids.previewConfirm, HTMLButtonElement)
    confirm.textContent = `${kind === 'redrive' ? 'Redrive' : 'Purge'} ${entryCount(count)}`
    confirm.disabled = count === 0
    byId(ids.preview, HTMLElement).hidden = false
    confirm.focus()
  }

  hide(): void {
    this.#confirmed = undefined
    byId(ids.preview, HTMLElement).hidden = true
  }
}
