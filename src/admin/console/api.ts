// The admin API as the console calls it: one method per route, typed by the route schemas. The token comes from a
// TokenStore (the tab's sessionStorage in the browser) and goes with every call as a bearer token; fetch is
// handed in, so unit tests drive every call without a server.
import type {
  Audit,
  DeadLetterPage,
  EventDeadLetters,
  EventStatus,
  Filter,
  Overview,
  PauseRequest,
  PauseState,
  PurgeResult,
  RebuildStart,
  RebuildStatus,
  RebuildVerify,
  RedriveJob,
  RedrivePreview,
  RedriveRequest,
  RedriveStarted,
  ResumeRequest,
  Series,
  Stats,
} from './types.ts'

/** No token, or the server refused it: the console goes back to its sign-in form. */
export class SignedOut extends Error {
  override readonly name = 'SignedOut'
}

/** Any other answer than 2xx: the message is the server's own (`error.message`) when it sent one. */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly status: number
  readonly data: unknown
  constructor(message: string, status: number, data: unknown) {
    super(message)
    this.status = status
    this.data = data
  }
}

export interface TokenStore {
  get(): string | null
  set(token: string): void
  clear(): void
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>

export interface ApiOptions {
  readonly fetch: Fetch
  readonly tokens: TokenStore
  /** Called when the server answers 401, after the token was dropped. */
  readonly onUnauthorized?: () => void
}

/** GET /admin/dlq's path: the filter's fields, the page size, and the cursor of a next page. */
export function listPath(filter: Filter, limit: number, cursor?: string | null): string {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(filter)) if (typeof value === 'string') query.set(name, value)
  query.set('limit', String(limit))
  if (cursor) query.set('cursor', cursor)
  return `/admin/dlq?${query}`
}

/** GET /admin/dlq/{eventId}'s path: one page of that eventId's dead letters. */
export function eventDeadLettersPath(eventId: string, limit: number, cursor?: string | null): string {
  const query = new URLSearchParams({ limit: String(limit) })
  if (cursor) query.set('cursor', cursor)
  return `/admin/dlq/${encodeURIComponent(eventId)}?${query}`
}

/** The text of a failed call: the server's message when it sent one, else the status line. */
export function failureMessage(method: string, path: string, response: Response, data: unknown): string {
  const error = typeof data === 'object' && data !== null ? (data as { error?: unknown }).error : undefined
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined
  const text = typeof message === 'string' ? message : `${response.status} ${response.statusText}`.trim()
  return `${method} ${path}: ${text}`
}

function parse(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export class AdminApi {
  readonly #fetch: Fetch
  readonly #tokens: TokenStore
  readonly #onUnauthorized: () => void

  constructor(options: ApiOptions) {
    this.#fetch = options.fetch
    this.#tokens = options.tokens
    this.#onUnauthorized = options.onUnauthorized ?? (() => {})
  }

  /** One call; the answer typed by the caller, who names the route whose schema it is. */
  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const token = this.#tokens.get()
    if (!token) throw new SignedOut('not signed in')
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await this.#fetch(path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const data = parse(await response.text())
    if (response.status === 401) {
      this.#tokens.clear()
      this.#onUnauthorized()
      throw new SignedOut('unauthorized')
    }
    if (!response.ok) throw new ApiError(failureMessage(method, path, response, data), response.status, data)
    return data as T
  }

  overview(): Promise<Overview> {
    return this.call('GET', '/admin/overview')
  }

  series(): Promise<Series> {
    return this.call('GET', '/admin/series')
  }

  stats(): Promise<Stats> {
    return this.call('GET', '/admin/dlq/stats')
  }

  deadLetters(filter: Filter, limit: number, cursor?: string | null): Promise<DeadLetterPage> {
    return this.call('GET', listPath(filter, limit, cursor))
  }

  eventDeadLetters(eventId: string, limit = 50, cursor?: string | null): Promise<EventDeadLetters> {
    return this.call('GET', eventDeadLettersPath(eventId, limit, cursor))
  }

  previewRedrive(request: RedriveRequest): Promise<RedrivePreview> {
    return this.call('POST', '/admin/dlq/redrive', { ...request, dryRun: true })
  }

  startRedrive(request: RedriveRequest): Promise<RedriveStarted> {
    return this.call('POST', '/admin/dlq/redrive', { ...request, dryRun: false })
  }

  redrive(id: string): Promise<RedriveJob> {
    return this.call('GET', `/admin/dlq/redrives/${encodeURIComponent(id)}`)
  }

  previewPurge(filter: Filter): Promise<PurgeResult> {
    return this.call('POST', '/admin/dlq/purge', { filter, dryRun: true })
  }

  purge(filter: Filter): Promise<PurgeResult> {
    return this.call('POST', '/admin/dlq/purge', { filter, dryRun: false, confirm: true })
  }

  audit(limit = 100): Promise<Audit> {
    return this.call('GET', `/admin/audit?limit=${limit}`)
  }

  eventStatus(eventId: string): Promise<EventStatus> {
    return this.call('GET', `/admin/events/${encodeURIComponent(eventId)}`)
  }

  pauseState(): Promise<PauseState> {
    return this.call('GET', '/admin/consumer/pause')
  }

  pause(request: PauseRequest): Promise<PauseState> {
    return this.call('POST', '/admin/consumer/pause', request)
  }

  resume(request: ResumeRequest): Promise<PauseState> {
    return this.call('POST', '/admin/consumer/resume', request)
  }

  /** The store's rebuild; undefined when there is none (the route answers 404). */
  async rebuildStatus(): Promise<RebuildStatus | undefined> {
    try {
      return await this.call<RebuildStatus>('GET', '/admin/rebuild')
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined
      throw error
    }
  }

  startRebuild(body: RebuildStart): Promise<RebuildStatus> {
    return this.call('POST', '/admin/rebuild/start', body)
  }

  verifyRebuild(limit = 20): Promise<RebuildVerify> {
    return this.call('POST', '/admin/rebuild/verify', { limit })
  }

  /** The other commands: each answers the status (202 for resume, swap and rollback, which run in the background). */
  rebuildCommand(command: 'resume' | 'swap' | 'rollback' | 'abort' | 'drop-old'): Promise<RebuildStatus> {
    return this.call('POST', `/admin/rebuild/${command}`, {})
  }
}
