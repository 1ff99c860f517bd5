// The dry-run panel that redrive and purge share: what would change, and a confirm button that does it.
import type { Context } from '../context.ts'
import { byId, h } from '../dom.ts'
import { entryCount, formatNumber } from '../format.ts'
import { ids } from '../ids.ts'
import { Confirmation } from './confirmation.ts'

/** At most this many eventIds are listed; the rest is counted. */
const listed = 50

export type Kind = 'redrive' | 'purge'

export class PreviewPanel {
  readonly #confirmation: Confirmation

  constructor(context: Context) {
    this.#confirmation = new Confirmation(context, {
      panel: ids.preview,
      confirm: ids.previewConfirm,
      cancel: ids.previewCancel,
    })
  }

  show(kind: Kind, count: number, shownIds: readonly string[], action: () => Promise<void>): void {
    byId(ids.previewTitle, HTMLHeadingElement).textContent =
      kind === 'redrive' ? 'Redrive preview (dry run)' : 'Purge preview (dry run)'
    byId(ids.previewSummary, HTMLParagraphElement).textContent =
      `${entryCount(count)} would be ${kind === 'redrive' ? 'sent back to Kafka' : 'removed for good'}. ` +
      'Nothing has changed yet.'
    const list = byId(ids.previewList, HTMLUListElement)
    list.replaceChildren(...shownIds.slice(0, listed).map(id => h('li', { className: 'mono' }, id)))
    if (shownIds.length > listed) list.append(h('li', {}, `… and ${formatNumber(shownIds.length - listed)} more`))
    this.#confirmation.ask(`${kind === 'redrive' ? 'Redrive' : 'Purge'} ${entryCount(count)}`, action, count === 0)
  }

  hide(): void {
    this.#confirmation.hide()
  }
}
