// The audit trail: redrives and purges, newest first.
import type { Context } from '../context.ts'
import { byId, fillRows, h } from '../dom.ts'
import { formatNumber, formatTime, truncate } from '../format.ts'
import { ids } from '../ids.ts'

export class AuditView {
  readonly #context: Context

  constructor(context: Context) {
    this.#context = context
  }

  async load(): Promise<void> {
    const audit = await this.#context.api.audit(100)
    const rows = audit.entries.map(a =>
      h(
        'tr',
        {},
        h('td', {}, formatTime(a.at)),
        h('td', {}, a.who),
        h('td', {}, a.fixed ? `${a.action} (fixed)` : a.action),
        h('td', { className: 'num' }, formatNumber(a.count)),
        h('td', { className: 'mono' }, truncate(JSON.stringify(a.filter), 120)),
      ),
    )
    fillRows(
      byId(ids.auditTable, HTMLTableElement),
      rows.length > 0 ? rows : [h('tr', {}, h('td', { colSpan: 5 }, 'none yet'))],
    )
  }
}
