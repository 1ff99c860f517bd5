// A panel that asks before an action: the action waits until its confirm button is clicked, and is forgotten once
// done or cancelled, so a second click does nothing. The redrive and purge preview, the pause and the rebuild
// commands each have one.
import type { Context } from '../context.ts'
import { byId, type Id } from '../dom.ts'

export interface ConfirmationIds {
  readonly panel: Id
  readonly confirm: Id
  readonly cancel: Id
}

export class Confirmation {
  readonly #panel: Id
  readonly #confirm: Id
  #action: (() => Promise<void>) | undefined

  constructor(context: Context, panelIds: ConfirmationIds) {
    this.#panel = panelIds.panel
    this.#confirm = panelIds.confirm
    byId(panelIds.cancel, HTMLButtonElement).addEventListener('click', () => this.hide())
    byId(panelIds.confirm, HTMLButtonElement).addEventListener('click', () =>
      context.guarded(async () => {
        const action = this.#action
        this.hide()
        await action?.()
      }),
    )
  }

  /** Shows the panel (its text set by the caller) with the confirm button labelled `label`, which runs `action`. */
  ask(label: string, action: () => Promise<void>, disabled = false): void {
    this.#action = action
    const confirm = byId(this.#confirm, HTMLButtonElement)
    confirm.textContent = label
    confirm.disabled = disabled
    byId(this.#panel, HTMLElement).hidden = false
    confirm.focus()
  }

  hide(): void {
    this.#action = undefined
    byId(this.#panel, HTMLElement).hidden = true
  }
}
