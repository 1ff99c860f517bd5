// What every view is handed: the API client and the alert region. Views hold their own state in their instance.
import { type AdminApi, SignedOut } from './api.ts'
import { byId } from './dom.ts'
import { ids } from './ids.ts'

export interface Context {
  readonly api: AdminApi
  /** Shows `message` in the alert region; '' hides it. */
  alert(message: string): void
  /** Runs `work`, its error shown in the alert region; a sign-out is not an error worth showing twice. */
  guarded(work: () => Promise<unknown>): void
}

export function createContext(api: AdminApi): Context {
  const alert = (message: string) => {
    const region = byId(ids.alert, HTMLDivElement)
    region.textContent = message
    region.hidden = message === ''
  }
  return {
    api,
    alert,
    guarded(work) {
      work().catch((error: unknown) => {
        if (!(error instanceof SignedOut)) alert(error instanceof Error ? error.message : String(error))
      })
    },
  }
}

/**
 * A view's refresh while it is shown: once at start, then every `everyMs`, each run guarded (its error shown in
 * the alert region); a second start while running does nothing.
 */
export class Refresher {
  readonly #context: Context
  readonly #everyMs: number
  readonly #refresh: () => Promise<void>
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(context: Context, everyMs: number, refresh: () => Promise<void>) {
    this.#context = context
    this.#everyMs = everyMs
    this.#refresh = refresh
  }

  start(): void {
    if (this.#timer !== undefined) return
    this.#context.guarded(this.#refresh)
    this.#timer = setInterval(() => this.#context.guarded(this.#refresh), this.#everyMs)
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
