// The console's API client against a recorded fetch: paths and bodies per route, the bearer token, errors, and
// the sign-out on 401.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AdminApi,
  ApiError,
  eventDeadLettersPath,
  type Fetch,
  listPath,
  SignedOut,
  type TokenStore,
} from '../../../src/admin/console/api.ts'

interface Call {
  readonly url: string
  readonly method: string | undefined
  readonly headers: Record<string, string>
  readonly body: unknown
}

function client(answer: (call: Call) => Response, token: string | null = 'the-token') {
  const calls: Call[] = []
  let held = token
  let unauthorized = 0
  const tokens: TokenStore = {
    get: () => held,
    set: next => {
      held = next
    },
    clear: () => {
      held = null
    },
  }
  const fetch: Fetch = async (url, init) => {
    const call = {
      url,
      method: init.method,
      headers: init.headers as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    }
    calls.push(call)
    return answer(call)
  }
  const api = new AdminApi({ fetch, tokens, onUnauthorized: () => unauthorized++ })
  return { api, calls, token: () => held, unauthorized: () => unauthorized }
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

describe('console API paths', () => {
  it('puts the filter, the page size and the cursor in the list query', () => {
    assert.equal(listPath({}, 50), '/admin/dlq?limit=50')
    assert.equal(
      listPath({ code: 'SCHEMA_VIOLATION', key: 'a b' }, 20, 'c-1'),
      '/admin/dlq?code=SCHEMA_VIOLATION&key=a+b&limit=20&cursor=c-1',
    )
    assert.equal(listPath({ type: 'UserCreated' }, 10, null), '/admin/dlq?type=UserCreated&limit=10')
  })

  it("escapes the eventId in the path of an event's dead letters", () => {
    assert.equal(eventDeadLettersPath('a/b?c', 10), '/admin/dlq/a%2Fb%3Fc?limit=10')
    assert.equal(eventDeadLettersPath('e-1', 50, 'n'), '/admin/dlq/e-1?limit=50&cursor=n')
  })
})

describe('AdminApi', () => {
  it('sends the bearer token and answers the parsed body', async () => {
    const { api, calls } = client(() => json({ total: 3, byCode: {}, byType: {}, oldest: null, newest: null }))
    const stats = await api.stats()
    assert.equal(stats.total, 3)
    assert.deepEqual(calls[0], {
      url: '/admin/dlq/stats',
      method: 'GET',
      headers: { authorization: 'Bearer the-token' },
      body: undefined,
    })
  })

  it('dry-runs, then starts, a redrive with the same request', async () => {
    const { api, calls } = client(({ body }) =>
      (body as { dryRun: boolean }).dryRun
        ? json({ dryRun: true, entries: [], count: 1, notRedrivable: [] })
        : json({ redriveId: 'rd-x-00000000', count: 1, notRedrivable: [] }, 202),
    )
    const request = { eventId: 'e-1', payload: { eventId: 'e-1' }, filter: {} }
    assert.equal((await api.previewRedrive(request)).count, 1)
    assert.equal((await api.startRedrive(request)).redriveId, 'rd-x-00000000')
    assert.deepEqual(
      calls.map(c => [c.method, c.url, c.headers['content-type'], c.body]),
      [
        ['POST', '/admin/dlq/redrive', 'application/json', { ...request, dryRun: true }],
        ['POST', '/admin/dlq/redrive', 'application/json', { ...request, dryRun: false }],
      ],
    )
  })

  it('purges only with confirm, after a dry run', async () => {
    const { api, calls } = client(() => json({ dryRun: false, count: 0, eventIds: [], heldByRedrive: 0 }))
    await api.previewPurge({ code: 'SCHEMA_VIOLATION' })
    await api.purge({ code: 'SCHEMA_VIOLATION' })
    assert.deepEqual(
      calls.map(c => c.body),
      [
        { filter: { code: 'SCHEMA_VIOLATION' }, dryRun: true },
        { filter: { code: 'SCHEMA_VIOLATION' }, dryRun: false, confirm: true },
      ],
    )
  })

  it('reads the other routes where the server serves them', async () => {
    const { api, calls } = client(() => json({ entries: [], total: 0, next: null }))
    await api.overview()
    await api.deadLetters({ source: 'consumer' }, 25)
    await api.eventDeadLetters('e 1')
    await api.redrive('rd-x-00000000')
    await api.audit()
    await api.eventStatus('e/1')
    assert.deepEqual(
      calls.map(c => c.url),
      [
        '/admin/overview',
        '/admin/dlq?source=consumer&limit=25',
        '/admin/dlq/e%201?limit=50',
        '/admin/dlq/redrives/rd-x-00000000',
        '/admin/audit?limit=100',
        '/admin/events/e%2F1',
      ],
    )
  })

  it("throws the server's message with the status", async () => {
    const { api } = client(() => json({ error: { code: 'BAD_REQUEST', message: 'limit must be 1 to 1000' } }, 400))
    await assert.rejects(api.deadLetters({}, 5000), (error: unknown) => {
      assert.ok(error instanceof ApiError)
      assert.equal(error.status, 400)
      assert.equal(error.message, 'GET /admin/dlq?limit=5000: limit must be 1 to 1000')
      return true
    })
  })

  it('says the status line when the body is not the error shape', async () => {
    const { api } = client(() => new Response('upstream down', { status: 502, statusText: 'Bad Gateway' }))
    await assert.rejects(api.overview(), { name: 'ApiError', message: 'GET /admin/overview: 502 Bad Gateway' })
  })

  it('drops the token and signs out on 401', async () => {
    const { api, token, unauthorized } = client(() => json({ error: { message: 'no' } }, 401))
    await assert.rejects(api.overview(), SignedOut)
    assert.equal(token(), null)
    assert.equal(unauthorized(), 1)
  })

  it('calls nothing without a token', async () => {
    const { api, calls } = client(() => json({}), null)
    await assert.rejects(api.stats(), SignedOut)
    assert.equal(calls.length, 0)
  })
})
