// Pausing the consumer: what is paused (by whom, when, why), each live member's acknowledgement, and pause and
// resume buttons that ask for a confirmation first. Refreshed every 2 seconds while the section is shown.
import { type Context, Refresher } from '../context.ts'
import { byId, fillRows, h } from '../dom.ts'
import { formatTime } from '../format.ts'
import { ids } from '../ids.ts'
import { confirmText, idleText, memberCells, partitionsOf, pauseSummary } from '../pause-text.ts'
import type { PauseState } from '../types.ts'
import { Confirmation } from './confirmation.ts'

const refreshMs = 2000

export class PauseView {
  readonly #context: Context
  readonly #refresher: Refresher
  readonly #confirmation: Confirmation
  #state: PauseState | undefined

  constructor(context: Context) {
    this.#context = context
    this.#refresher = new Refresher(context, refreshMs, () => this.refresh())
    byId(ids.pauseForm, HTMLFormElement).addEventListener('submit', event => {
      event.preventDefault()
      context.guarded(async () => this.#ask('pause'))
    })
    byId(ids.resumeButton, HTMLButtonElement).addEventListener('click', () =>
      context.guarded(async () => this.#ask('resume')),
    )
    this.#confirmation = new Confirmation(context, {
      panel: ids.pauseConfirmation,
      confirm: ids.pauseConfirm,
      cancel: ids.pauseCancel,
    })
  }

  start(): void {
    this.#refresher.start()
  }

  stop(): void {
    this.#refresher.stop()
  }

  async refresh(): Promise<void> {
    this.#show(await this.#context.api.pauseState())
  }

  #show(state: PauseState): void {
    this.#state = state
    byId(ids.pauseSummary, HTMLParagraphElement).textContent = pauseSummary(state)
    byId(ids.pauseIdle, HTMLParagraphElement).textContent = idleText(state)
    const paused = state.partitions.map(p =>
      h(
        'tr',
        {},
        h('td', { className: 'num' }, p.partition),
        h('td', {}, p.by),
        h('td', {}, formatTime(p.at)),
        h('td', {}, p.reason),
      ),
    )
    fillRows(
      byId(ids.pauseTable, HTMLTableElement),
      paused.length > 0 ? paused : [h('tr', {}, h('td', { colSpan: 4 }, 'none paused one by one'))],
    )
    const members = [
      ...state.members.map(m => memberCells(state, m)),
      ...state.silent.map(s => [...memberCells(state, s.report).slice(0, 5), `silent for ${s.silentSeconds} s`]),
    ].map(cells => h('tr', {}, ...cells.map(cell => h('td', {}, cell))))
    fillRows(
      byId(ids.pauseMembers, HTMLTableElement),
      members.length > 0 ? members : [h('tr', {}, h('td', { colSpan: 6 }, 'no live member reports'))],
    )
  }

  #ask(action: 'pause' | 'resume'): void {
    const scope = partitionsOf(byId(ids.pausePartitions, HTMLInputElement).value)
    const reason = byId(ids.pauseReason, HTMLInputElement).value.trim()
    const partitions = scope === 'all' ? {} : { partitions: scope }
    byId(ids.pauseQuestion, HTMLParagraphElement).textContent = confirmText(
      action,
      scope,
      this.#state?.groupId ?? 'of this consumer',
    )
    this.#confirmation.ask(action === 'pause' ? 'Pause' : 'Resume', async () => {
      const api = this.#context.api
      this.#show(
        action === 'pause'
          ? await api.pause({ ...partitions, ...(reason === '' ? {} : { reason }) })
          : await api.resume(partitions),
      )
    })
  }
}
