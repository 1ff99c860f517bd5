// The console's entry point, bundled by esbuild into /console/console.js. It talks only to the admin API of the
// port that served it; the admin token lives in sessionStorage (this tab, until sign-out or close) and goes with
// every call as a bearer token.
import { AdminApi, SignedOut, type TokenStore } from './api.ts'
import { type Context, createContext } from './context.ts'
import { byId } from './dom.ts'
import { ids, type Section, sections } from './ids.ts'
import { AuditView } from './views/audit.ts'
import { ChartsView } from './views/charts.ts'
import { DeadLettersView } from './views/dead-letters.ts'
import { EntryView } from './views/entry.ts'
import { EventStatusView } from './views/event-status.ts'
import { OverviewView } from './views/overview.ts'
import { PauseView } from './views/pause.ts'
import { PreviewPanel } from './views/preview.ts'
import { PurgeView } from './views/purge.ts'
import { RebuildView } from './views/rebuild.ts'
import { RedriveView } from './views/redrive.ts'

const tokenKey = 'event-pipeline.admin-token'

const sessionTokens: TokenStore = {
  get: () => sessionStorage.getItem(tokenKey),
  set: token => sessionStorage.setItem(tokenKey, token),
  clear: () => sessionStorage.removeItem(tokenKey),
}

const isSection = (name: string): name is Section => (sections as readonly string[]).includes(name)

class Console {
  readonly #context: Context
  readonly #overview: OverviewView
  readonly #charts: ChartsView
  readonly #deadLetters: DeadLettersView
  readonly #audit: AuditView
  readonly #pause: PauseView
  readonly #rebuild: RebuildView

  constructor() {
    const api = new AdminApi({
      fetch: (url, init) => fetch(url, init),
      tokens: sessionTokens,
      onUnauthorized: () => this.signOut('The admin token was refused (401). Sign in again.'),
    })
    this.#context = createContext(api)
    const context = this.#context
    const preview = new PreviewPanel(context)
    const redrive = new RedriveView(context, preview, () => list.search())
    const entry = new EntryView(context, (eventId, payload) => redrive.previewFix(eventId, payload, () => entry.hide()))
    const list = new DeadLettersView(context, shown => entry.show(shown))
    const purge = new PurgeView(context, preview, list)
    this.#deadLetters = list
    this.#overview = new OverviewView(context)
    this.#charts = new ChartsView(context)
    this.#audit = new AuditView(context)
    this.#pause = new PauseView(context)
    this.#rebuild = new RebuildView(context)
    new EventStatusView(context)

    byId(ids.redrivePreview, HTMLButtonElement).addEventListener('click', () =>
      context.guarded(() => redrive.previewFilter(list.currentFilter())),
    )
    byId(ids.purgePreview, HTMLButtonElement).addEventListener('click', () =>
      context.guarded(() => purge.previewFilter(list.currentFilter())),
    )
    byId(ids.signInForm, HTMLFormElement).addEventListener('submit', event => {
      event.preventDefault()
      this.#context.guarded(() => this.#signIn())
    })
    byId(ids.signOut, HTMLButtonElement).addEventListener('click', () => this.signOut())
    window.addEventListener('hashchange', () => this.route())
  }

  async #signIn(): Promise<void> {
    const field = byId(ids.token, HTMLInputElement)
    sessionTokens.set(field.value.trim())
    field.value = ''
    try {
      await this.#context.api.overview()
    } catch (error) {
      if (error instanceof SignedOut) return
      throw error
    }
    this.#context.alert('')
    if (location.hash === '' || location.hash === '#') location.hash = `#${ids.overview}`
    this.route()
    byId(ids.main, HTMLElement).focus()
  }

  signOut(message = ''): void {
    sessionTokens.clear()
    this.#overview.stop()
    this.#charts.stop()
    this.#pause.stop()
    this.#rebuild.stop()
    this.#context.alert(message)
    this.route()
  }

  /** Shows the section the hash names (the overview by default), or the sign-in form without a token. */
  route(): void {
    const signedIn = sessionTokens.get() !== null
    byId(ids.signIn, HTMLElement).hidden = signedIn
    const nav = byId(ids.nav, HTMLElement)
    nav.hidden = !signedIn
    const wanted = location.hash.slice(1)
    const current = signedIn ? (isSection(wanted) ? wanted : ids.overview) : undefined
    for (const id of sections) byId(id, HTMLElement).hidden = id !== current
    for (const link of nav.querySelectorAll('a')) {
      if (link.getAttribute('href') === `#${current}`) link.setAttribute('aria-current', 'page')
      else link.removeAttribute('aria-current')
    }
    if (current === ids.overview) this.#overview.start()
    else this.#overview.stop()
    if (current === ids.charts) this.#charts.start()
    else this.#charts.stop()
    if (current === ids.deadLetters && !this.#deadLetters.loaded)
      this.#context.guarded(() => this.#deadLetters.search())
    if (current === ids.audit) this.#context.guarded(() => this.#audit.load())
    if (current === ids.pause) this.#pause.start()
    else this.#pause.stop()
    if (current === ids.rebuild) this.#rebuild.start()
    else this.#rebuild.stop()
    if (!signedIn) byId(ids.token, HTMLInputElement).focus()
  }
}

new Console().route()
