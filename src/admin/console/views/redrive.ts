// Redrive: of the filter's entries, or of one fixed entry; a dry run first, then the job followed to its end.
import type { Context } from '../context.ts'
import { positionOf } from '../dead-letter.ts'
import { byId } from '../dom.ts'
import { formatNumber } from '../format.ts'
import { ids } from '../ids.ts'
import type { Filter, RedriveJob, RedriveRequest, RedriveStarted } from '../types.ts'
import type { PreviewPanel } from './preview.ts'

const pollMs = 500

/** The job's line: `done: 3 of 3 sent`, failures and the error when there are any. */
export function jobText(job: RedriveJob): string {
  const failed = job.failed > 0 ? `, ${formatNumber(job.failed)} failed` : ''
  const error = job.error ? ` (${job.error})` : ''
  return `${job.state}: ${formatNumber(job.sent)} of ${formatNumber(job.total)} sent${failed}${error}`
}

export class RedriveView {
  readonly #context: Context
  readonly #preview: PreviewPanel
  /** Called once a job ended, so the list shows what is left. */
  readonly #afterJob: () => Promise<void>

  constructor(context: Context, preview: PreviewPanel, afterJob: () => Promise<void>) {
    this.#context = context
    this.#preview = preview
    this.#afterJob = afterJob
  }

  /** Dry-runs the redrive of `filter`'s entries and offers to start it. */
  previewFilter(filter: Filter): Promise<void> {
    return this.#offer({ filter })
  }

  /** Dry-runs sending `payload` in place of the newest dead letter of `eventId`, and offers to start it. */
  previewFix(eventId: string, payload: object, beforeStart: () => void): Promise<void> {
    return this.#offer({ eventId, payload, filter: {} }, beforeStart)
  }

  async #offer(request: RedriveRequest, beforeStart = () => {}): Promise<void> {
    const result = await this.#context.api.previewRedrive(request)
    const shown = result.entries.map(e => e.eventId ?? positionOf(e))
    this.#preview.show('redrive', result.count, shown, async () => {
      beforeStart()
      await this.follow(await this.#context.api.startRedrive(request))
    })
  }

  /** Polls the job until it is no longer running, its progress on the page. */
  async follow(started: RedriveStarted): Promise<void> {
    byId(ids.job, HTMLElement).hidden = false
    byId(ids.jobTitle, HTMLHeadingElement).textContent = `Redrive ${started.redriveId}`
    const progress = byId(ids.jobProgress, HTMLProgressElement)
    for (;;) {
      const job = await this.#context.api.redrive(started.redriveId)
      progress.max = Math.max(1, job.total)
      progress.value = job.sent + job.failed
      byId(ids.jobStatus, HTMLParagraphElement).textContent = jobText(job)
      if (job.state !== 'running') break
      await new Promise(resolve => setTimeout(resolve, pollMs))
    }
    await this.#afterJob()
  }
}
