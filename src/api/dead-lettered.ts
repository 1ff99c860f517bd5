// Whether a read's key has dead letters its row does not reflect (docs/architecture.md, "Rows with newer dead
// letters"): the questions of every read in one turn of the event loop go to Redis as one script call, and a DLQ
// that fails or is slow never fails or holds a read: the read is answered "unchecked".
import DataLoader from 'dataloader'
import { withTimeout } from '../async.ts'
import {
  type DeadLettered,
  deadLetteredOf,
  type KeyAnswer,
  type KeyQuestion,
  keyQuestionsMax,
  questionsFor,
  type RowsRead,
} from '../dlq/index.ts'

/** The DLQ's answer to questions about keys (DeadLetterQueue.keySummaries). */
export type KeySummaries = (questions: readonly KeyQuestion[]) => Promise<KeyAnswer[]>

/** What a read tells: the key's dead letters (undefined: none), or that the DLQ could not be asked. */
export type KeyCheck =
  | { readonly checked: true; readonly deadLettered: DeadLettered | undefined }
  | { readonly checked: false }

/** The X-Dead-Lettered header of a check: how many dead letters of the key its row does not reflect. */
export function deadLetteredHeader(check: KeyCheck): string {
  return check.checked ? String(check.deadLettered?.count ?? 0) : 'unchecked'
}

export interface DeadLetteredKeysOptions {
  readonly ask: KeySummaries
  /** Longest a read waits for the DLQ before it answers unchecked (default 250 ms). */
  readonly waitMs?: number
  /** Told when checks start failing and when they work again, not once per read. */
  readonly onFailing?: (error: unknown) => void
  readonly onRecovered?: () => void
}

export class DeadLetteredKeys {
  readonly #loader: DataLoader<KeyQuestion, KeyAnswer>
  readonly #options: DeadLetteredKeysOptions
  readonly #waitMs: number
  #failing = false

  constructor(options: DeadLetteredKeysOptions) {
    this.#options = options
    this.#waitMs = options.waitMs ?? 250
    // No cache: a read sees the DLQ as it is when it asks. The questions of one turn share a call, at most
    // keyQuestionsMax to a call.
    this.#loader = new DataLoader(questions => options.ask(questions), {
      cache: false,
      maxBatchSize: keyQuestionsMax,
      batchScheduleFn: dispatch => setImmediate(dispatch),
    })
  }

  /** What the DLQ holds for `key` that the rows a read found do not reflect; never throws. */
  async check(key: string, rows: RowsRead): Promise<KeyCheck> {
    const asked = Promise.all(questionsFor(key, rows).map(q => this.#loader.load(q)))
    try {
      const answers = await withTimeout(asked, this.#waitMs, 'the dead-letter queue')
      if (this.#failing) this.#options.onRecovered?.()
      this.#failing = false
      return { checked: true, deadLettered: deadLetteredOf(answers) }
    } catch (error) {
      asked.catch(() => {})
      if (!this.#failing) this.#options.onFailing?.(error)
      this.#failing = true
      return { checked: false }
    }
  }
}
