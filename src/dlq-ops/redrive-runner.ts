// Redrives started over HTTP run in the background of this process, one run per job at a time. Their state is in
// Redis, so a restart loses nothing (the next run or `dlq redrive --resume` completes it); close() only stops the
// runs here at their next step and waits for them.
import type { Logger } from '../observability/index.ts'
import type { DlqAdmin } from './dlq-admin.ts'
import { RedriveBusy } from './redrive.ts'

export class RedriveRunner {
  readonly #admin: Pick<DlqAdmin, 'run'>
  readonly #logger: Logger
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>()

  constructor(admin: Pick<DlqAdmin, 'run'>, logger: Logger) {
    this.#admin = admin
    this.#logger = logger
  }

  /** Whether a run of job `id` is going on in this process. */
  has(id: string): boolean {
    return this.#running.has(id)
  }

  /** Starts a run of job `id` by `who` unless one runs here already; its end is logged, never thrown. */
  launch(id: string, who: string, resumed: boolean): void {
    if (this.#running.has(id)) return
    const controller = new AbortController()
    const done = this.#admin
      .run(id, { who, resumed, signal: controller.signal })
      .then(
        status => this.#logger.info({ redriveId: id, state: status.state, sent: status.sent }, 'redrive finished'),
        error => {
          // Another run (here or in another process) holds the job's lease: that one completes it.
          if (error instanceof RedriveBusy) return
          this.#logger.error({ redriveId: id, err: error }, 'redrive failed; `dlq redrive --resume` completes it')
        },
      )
      .finally(() => this.#running.delete(id))
    this.#running.set(id, { controller, done })
  }

  /** Stops the runs at their next step (their jobs stay resumable) and waits for them. */
  async close(): Promise<void> {
    for (const { controller } of this.#running.values()) controller.abort()
    await Promise.allSettled([...this.#running.values()].map(r => r.done))
  }
}
