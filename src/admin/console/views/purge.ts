// Purge: the filter's entries removed for good, after a dry run that lists them.
import type { Context } from '../context.ts'
import { entryCount } from '../format.ts'
import type { Filter } from '../types.ts'
import type { DeadLettersView } from './dead-letters.ts'
import type { PreviewPanel } from './preview.ts'

export class PurgeView {
  readonly #context: Context
  readonly #preview: PreviewPanel
  readonly #list: DeadLettersView

  constructor(context: Context, preview: PreviewPanel, list: DeadLettersView) {
    this.#context = context
    this.#preview = preview
    this.#list = list
  }

  async previewFilter(filter: Filter): Promise<void> {
    const result = await this.#context.api.previewPurge(filter)
    this.#preview.show('purge', result.count, result.eventIds, async () => {
      const purged = await this.#context.api.purge(filter)
      await this.#list.search()
      this.#list.say(`Purged ${entryCount(purged.count)}.`)
    })
  }
}
