// The rebuild: its state, progress per partition with a bar, the bad records, and its commands. Refreshed every 2
// seconds while the section is shown. A button is enabled only when the rebuild's state allows its command (the
// server's own table, src/rebuild/state.ts); the server decides, and its refusal (409) shows in the alert.
// Swap, rollback, abort and drop-old ask for a confirmation naming what they do first.
import { type Context, Refresher } from '../context.ts'
import { byId, fillRows, h } from '../dom.ts'
import { ids } from '../ids.ts'
import {
  allowed,
  badCells,
  badText,
  confirmText,
  diffRows,
  doneFraction,
  partitionCells,
  progressText,
  type RebuildCommand,
  startBody,
  stateText,
  tableCells,
  verifyText,
} from '../rebuild-text.ts'
import type { RebuildStatus, RebuildVerify } from '../types.ts'
import { Confirmation } from './confirmation.ts'

const refreshMs = 2000

const buttons: Readonly<Record<RebuildCommand, (typeof ids)[keyof typeof ids]>> = {
  start: ids.rebuildStart,
  resume: ids.rebuildResume,
  verify: ids.rebuildVerify,
  swap: ids.rebuildSwap,
  rollback: ids.rebuildRollback,
  abort: ids.rebuildAbort,
  'drop-old': ids.rebuildDropOld,
}

const row = (cells: readonly string[], numeric = 0) =>
  h('tr', {}, ...cells.map((cell, i) => h('td', i < numeric ? { className: 'num' } : {}, cell)))

export class RebuildView {
  readonly #context: Context
  readonly #refresher: Refresher
  readonly #confirmation: Confirmation
  #status: RebuildStatus | undefined

  constructor(context: Context) {
    this.#context = context
    this.#refresher = new Refresher(context, refreshMs, () => this.refresh())
    const api = context.api
    byId(ids.rebuildStartForm, HTMLFormElement).addEventListener('submit', event => {
      event.preventDefault()
      context.guarded(async () => {
        const body = startBody(byId(ids.rebuildFrom, HTMLInputElement).value)
        this.#done(await api.startRebuild(body))
      })
    })
    byId(ids.rebuildResume, HTMLButtonElement).addEventListener('click', () =>
      context.guarded(async () => this.#done(await api.rebuildCommand('resume'))),
    )
    byId(ids.rebuildVerify, HTMLButtonElement).addEventListener('click', () =>
      context.guarded(async () => {
        byId(ids.rebuildVerdict, HTMLParagraphElement).textContent = 'Comparing the shadow with the live tables…'
        byId(ids.rebuildReport, HTMLElement).hidden = false
        this.#report(await api.verifyRebuild())
        context.alert('')
        await this.refresh()
      }),
    )
    for (const command of ['swap', 'rollback', 'abort', 'drop-old'] as const) {
      byId(buttons[command], HTMLButtonElement).addEventListener('click', () => this.#ask(command))
    }
    this.#confirmation = new Confirmation(context, {
      panel: ids.rebuildConfirmation,
      confirm: ids.rebuildConfirm,
      cancel: ids.rebuildCancel,
    })
  }

  start(): void {
    this.#refresher.start()
  }

  stop(): void {
    this.#refresher.stop()
  }

  async refresh(): Promise<void> {
    this.#show(await this.#context.api.rebuildStatus())
  }

  #show(status: RebuildStatus | undefined): void {
    this.#status = status
    const section = byId(ids.rebuild, HTMLElement)
    section.dataset['state'] = status?.state ?? 'none'
    byId(ids.rebuildState, HTMLParagraphElement).textContent = stateText(status)
    const error = byId(ids.rebuildError, HTMLParagraphElement)
    error.textContent = status?.error ?? ''
    error.hidden = !status?.error
    const progress = status?.progress ?? null
    const bar = byId(ids.rebuildBar, HTMLProgressElement)
    bar.value = doneFraction(progress)
    bar.hidden = status === undefined
    byId(ids.rebuildProgress, HTMLParagraphElement).textContent = status === undefined ? '' : progressText(progress)
    const partitions = (progress?.partitions ?? []).map(p => row(partitionCells(p), 6))
    fillRows(
      byId(ids.rebuildPartitions, HTMLTableElement),
      partitions.length > 0 ? partitions : [h('tr', {}, h('td', { colSpan: 6 }, 'no progress yet'))],
    )
    const bad = status?.badRecords ?? { count: 0, first: [] }
    byId(ids.rebuildBadCount, HTMLParagraphElement).textContent = status === undefined ? '' : badText(bad)
    const badTable = byId(ids.rebuildBad, HTMLTableElement)
    badTable.hidden = bad.first.length === 0
    fillRows(
      badTable,
      bad.first.map(b => row(badCells(b))),
    )
    for (const [command, id] of Object.entries(buttons) as [RebuildCommand, (typeof buttons)[RebuildCommand]][]) {
      byId(id, HTMLButtonElement).disabled = !allowed(command, status)
    }
    byId(ids.rebuildFrom, HTMLInputElement).disabled = !allowed('start', status)
  }

  /**
   * A command the server accepted: its status shown, a refusal shown before cleared, and the verify report hidden
   * (it compared the tables as they were before the command).
   */
  #done(status: RebuildStatus): void {
    this.#context.alert('')
    byId(ids.rebuildReport, HTMLElement).hidden = true
    this.#show(status)
  }

  #report(report: RebuildVerify): void {
    byId(ids.rebuildReport, HTMLElement).hidden = false
    byId(ids.rebuildVerdict, HTMLParagraphElement).textContent = verifyText(report)
    fillRows(
      byId(ids.rebuildTables, HTMLTableElement),
      report.tables.map(t => row(tableCells(t))),
    )
    // Per table with differing keys: key, changed columns, then both versions side by side.
    const diffs = report.tables
      .filter(t => t.differing.length > 0)
      .map(t =>
        h(
          'table',
          { className: 'diff' },
          h('caption', {}, `${t.table}: differing keys`),
          h(
            'thead',
            {},
            h('tr', {}, ...['Key', 'Columns', 'Live', 'Rebuilt'].map(name => h('th', { scope: 'col' }, name))),
          ),
          h(
            'tbody',
            {},
            diffRows(t).map(d =>
              h(
                'tr',
                {},
                h('td', { className: 'mono' }, d.key),
                h('td', {}, d.changed),
                h('td', {}, h('pre', {}, d.live)),
                h('td', {}, h('pre', {}, d.shadow)),
              ),
            ),
          ),
        ),
      )
    byId(ids.rebuildDiffs, HTMLDivElement).replaceChildren(...diffs)
  }

  #ask(command: 'swap' | 'rollback' | 'abort' | 'drop-old'): void {
    const status = this.#status
    if (status === undefined) return
    byId(ids.rebuildQuestion, HTMLParagraphElement).textContent = confirmText(command, status)
    const label = { swap: 'Swap', rollback: 'Roll back', abort: 'Abort', 'drop-old': 'Drop old tables' }[command]
    this.#confirmation.ask(label, async () => this.#done(await this.#context.api.rebuildCommand(command)))
  }
}
