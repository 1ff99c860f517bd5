// Attacks on the HTTP doors of the real roles (the `pipeline` command as a child process, loopback only), each
// replayed a bounded number of times: slow sockets, slowloris, connection floods, inputs built to make
// validation or its error report expensive, and requests without the right bearer token.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { parseEvent } from '../../src/events/index.ts'
import { createStore } from '../../src/store/index.ts'
import { userCreated } from '../helpers/events.ts'
import { eventually } from '../helpers/kafka.ts'
import { type RunningPipeline, startPipeline } from '../helpers/pipeline.ts'
import { type Cleanup, kafkaTopic, redisPrefix, sqliteFile, uniqueName } from '../helpers/resources.ts'

const produceToken = `produce-${uniqueName('tok')}`
const readToken = `read-${uniqueName('tok')}`
const adminToken = `admin-${uniqueName('tok')}`

// Short timeouts, so that each attack is cut within seconds.
const requestTimeoutMs = 2000
const headersTimeoutMs = 1000
const apiMaxConnections = 40

const cleanups: (() => unknown)[] = []
const hooks: Cleanup = { after: fn => void cleanups.push(fn) }
after(async () => {
  for (const fn of cleanups.reverse()) await fn()
})

let producer: RunningPipeline
let api: RunningPipeline

before(async () => {
  const topic = await kafkaTopic(hooks, 1)
  const { prefix } = redisPrefix(hooks)
  const database = sqliteFile(hooks)
  // One user in the store, so that the read API has something to answer 200 with.
  const store = await createStore({ engine: 'sqlite', path: database })
  await store.migrate()
  await store.applyBatch([
    { event: parseEvent(userCreated('hostile-user-1')), source: { topic, partition: 0, offset: 0n } },
  ])
  await store.close()
  ;[producer, api] = await Promise.all([
    startPipeline(hooks, 'producer', {
      KAFKA_TOPIC: topic,
      DLQ_KEY: `${prefix}dlq`,
      HTTP_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
      HTTP_HEADERS_TIMEOUT_MS: String(headersTimeoutMs),
      PRODUCE_TOKEN: produceToken,
      ADMIN_TOKEN: adminToken,
    }),
    startPipeline(hooks, 'api', {
      DATABASE_URL: `sqlite:${database}`,
      HTTP_MAX_CONNECTIONS: String(apiMaxConnections),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '30000',
      READ_TOKEN: readToken,
      ADMIN_TOKEN: adminToken,
    }),
  ])
})

interface Exchange {
  socket: Socket
  /** Bytes the server sent. */
  received: () => string
  /** Resolves with the milliseconds from connect to close. */
  closed: Promise<number>
}

function open(url: string): Promise<Exchange> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const socket = connect({ host: hostname, port: Number(port) })
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      data += chunk
    })
    const closed = new Promise<number>(done => socket.on('close', () => done(performance.now() - started)))
    socket.once('error', () => {})
    socket.once('connect', () => resolve({ socket, received: () => data, closed }))
    socket.once('error', reject)
  })
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`${what}: not within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** CPU time (user + system, ms) the child has used so far, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks * 10
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

async function produce(body: string, requestId: string) {
  const started = performance.now()
  const cpuBefore = cpuMs(producer.child.pid ?? 0)
  const res = await fetch(`${producer.urls.producer}/produce`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...bearer(produceToken) },
    body,
  })
  const text = await res.text()
  return {
    status: res.status,
    text,
    bytes: Buffer.byteLength(text),
    ms: performance.now() - started,
    cpuMs: cpuMs(producer.child.pid ?? 0) - cpuBefore,
  }
}

/** The producer's log lines about one request, once its "request completed" line is out. */
async function linesOf(requestId: string): Promise<Record<string, unknown>[]> {
  await eventually(
    'the request to be logged',
    async () => producer.logs.some(l => l['reqId'] === requestId && l['msg'] === 'request completed'),
    10_000,
  )
  return producer.logs.filter(l => l['reqId'] === requestId || JSON.stringify(l).includes(requestId))
}

describe('hostile HTTP clients against the real roles', () => {
  it('closes 100 sockets that stall mid-body at the request timeout and keeps answering', async () => {
    const head =
      'POST /produce HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
      `Authorization: Bearer ${produceToken}\r\nContent-Length: 500000\r\n\r\n`
    const sockets = await Promise.all(Array.from({ length: 100 }, () => open(producer.urls.producer)))
    for (const s of sockets) s.socket.write(`${head}[${' '.repeat(100_000)}`)
    // While they stall, the server still answers others.
    const health = await fetch(`${producer.urls.producer}/health`)
    assert.equal(health.status, 200)
    const times = await within(
      Promise.all(sockets.map(s => s.closed)),
      requestTimeoutMs + 4000,
      'the stalled sockets to be closed',
    )
    for (const ms of times)
      assert.ok(ms >= requestTimeoutMs * 0.9, `a socket closed after ${ms} ms, before the timeout`)
    assert.match(sockets[0]?.received() ?? '', /^HTTP\/1\.1 408/)
    const again = await fetch(`${producer.urls.producer}/health`)
    assert.equal(again.status, 200)
  })

  it('cuts a slowloris (headers dribbled) at the headers timeout', async () => {
    const s = await open(producer.urls.producer)
    s.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n')
    let n = 0
    const dribble = setInterval(() => {
      if (!s.socket.destroyed) s.socket.write(`X-Pad-${n++}: y\r\n`)
    }, 100)
    try {
      const ms = await within(s.closed, headersTimeoutMs + 4000, 'the slowloris socket to be closed')
      assert.ok(ms >= headersTimeoutMs * 0.9, `closed after ${ms} ms, before the headers timeout`)
      assert.ok(ms < requestTimeoutMs, `closed after ${ms} ms: the headers timeout did not cut it`)
    } finally {
      clearInterval(dribble)
    }
  })

  it('refuses connections beyond HTTP_MAX_CONNECTIONS and keeps serving the ones it holds', async () => {
    const held: Exchange[] = []
    let refused: Exchange | undefined
    try {
      // Each socket makes one keep-alive request, so it is known to be accepted, then stays open and idle.
      for (let i = 0; i < apiMaxConnections + 5 && refused === undefined; i++) {
        const s = await open(api.urls.api)
        s.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n')
        const answered = await Promise.race([
          eventually('an answer', async () => s.received().includes('\r\n\r\n'), 5000).then(() => true),
          s.closed.then(() => false),
        ])
        if (answered) held.push(s)
        else refused = s
      }
      assert.ok(refused !== undefined, `all ${apiMaxConnections + 5} connections were accepted`)
      assert.equal(refused.received(), '', 'a refused connection gets no answer')
      // The harness's own pooled connection may count too.
      assert.ok(held.length <= apiMaxConnections && held.length >= apiMaxConnections - 2, `held ${held.length}`)
      const first = held[0] as Exchange
      const before = first.received().length
      first.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n')
      await eventually('a held connection to be served', async () => first.received().length > before, 5000)
      assert.match(first.received().slice(before), /^HTTP\/1\.1 200/)
    } finally {
      for (const s of held) s.socket.destroy()
    }
    await eventually(
      'new connections to be served again',
      async () => (await fetch(`${api.urls.api}/health`).catch(() => undefined))?.status === 200,
      5000,
    )
  })

  it('refuses an event with 95,000 unknown keys fast, with a small answer', async () => {
    const envelope = userCreated('hostile-keys')
    const wideData: Record<string, unknown> = { ...envelope.data }
    const wideEnvelope: Record<string, unknown> = { ...envelope }
    for (let i = 0; i < 95_000; i++) {
      wideData[`k${i}`] = 1
      wideEnvelope[`k${i}`] = 1
    }
    for (const [name, body] of [
      ['data', JSON.stringify({ ...envelope, data: wideData })],
      ['envelope', JSON.stringify(wideEnvelope)],
    ] as const) {
      const requestId = uniqueName(`wide-${name}`)
      const r = await produce(body, requestId)
      assert.equal(r.status, 400, r.text.slice(0, 300))
      assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, 'SCHEMA_VIOLATION')
      assert.ok(r.bytes < 4096, `${name}: a ${r.bytes}-byte answer`)
      assert.ok(r.cpuMs < 150, `${name}: the producer spent ${r.cpuMs} ms of CPU on it`)
      for (const line of await linesOf(requestId)) {
        assert.ok(JSON.stringify(line).length < 8192, `${name}: a log line of ${JSON.stringify(line).length} chars`)
      }
      console.log(
        `95,000 unknown keys in the ${name}: ${r.bytes} bytes back in ${Math.round(r.ms)} ms, ${r.cpuMs} ms CPU`,
      )
    }
  })

  it('answers a 1 MB field name with a bounded answer and bounded log lines', async () => {
    const event = userCreated('hostile-name')
    const name = 'x'.repeat(1_000_000)
    const requestId = uniqueName('long-name')
    const r = await produce(JSON.stringify({ ...event, data: { ...event.data, [name]: 1 } }), requestId)
    assert.equal(r.status, 400)
    assert.ok(r.bytes < 4096, `a ${r.bytes}-byte answer`)
    assert.match(r.text, /\/data\/x{20}.*unknown field/, 'the answer still names the field, by a prefix')
    const lines = await linesOf(requestId)
    assert.ok(lines.length > 0)
    for (const line of lines) {
      assert.ok(JSON.stringify(line).length < 8192, `a log line of ${JSON.stringify(line).length} chars`)
    }
    // The batch form names the entry's problems just as boundedly.
    const batch = await produce(
      JSON.stringify([{ ...event, data: { ...event.data, [name.slice(0, 500_000)]: 1 } }]),
      uniqueName('long-name-batch'),
    )
    assert.equal(batch.status, 200)
    assert.ok(batch.bytes < 4096, `a ${batch.bytes}-byte answer`)
  })

  it('names the limit past PRODUCE_BODY_LIMIT', async () => {
    const r = await produce(`"${'x'.repeat(1_100_000)}"`, uniqueName('too-large'))
    assert.equal(r.status, 413)
    assert.match(r.text, /1048576 bytes \(PRODUCE_BODY_LIMIT\)/)
  })

  it('asks for PRODUCE_TOKEN on POST /produce and READ_TOKEN on reads, and never logs them', async () => {
    const event = JSON.stringify(userCreated('hostile-token-user'))
    const post = (headers: Record<string, string>) =>
      fetch(`${producer.urls.producer}/produce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: event,
      })
    const read = (headers: Record<string, string>) => fetch(`${api.urls.api}/users/hostile-user-1`, { headers })
    for (const call of [post, read]) {
      for (const headers of [
        {},
        bearer('wrong'),
        bearer(`${produceToken}${readToken}`),
        { authorization: 'Basic x' },
      ]) {
        const res = await call(headers)
        assert.equal(res.status, 401)
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
        const body = (await res.json()) as { error: { code: string } }
        assert.equal(body.error.code, 'UNAUTHORIZED')
      }
    }
    assert.equal((await post(bearer(produceToken))).status, 200)
    assert.equal((await post(bearer(readToken))).status, 401)
    const user = await read(bearer(readToken))
    assert.equal(user.status, 200)
    assert.equal(((await user.json()) as { user: { userId: string } }).user.userId, 'hostile-user-1')
    assert.equal((await read(bearer(produceToken))).status, 401)
    // Health, readiness and metrics stay open.
    for (const url of [producer.urls.producer, api.urls.api]) {
      for (const path of ['/health', '/ready', '/metrics']) assert.equal((await fetch(`${url}${path}`)).status, 200)
    }
    const logged = JSON.stringify([...producer.logs, ...api.logs])
    for (const token of [produceToken, readToken, adminToken]) assert.ok(!logged.includes(token), 'a token was logged')
  })

  it('answers /ready with a bare status unless the admin token is presented', async () => {
    for (const url of [producer.urls.producer, api.urls.api]) {
      for (const headers of [{}, bearer('wrong'), bearer(produceToken), bearer(readToken)]) {
        const res = await fetch(`${url}/ready`, { headers })
        assert.equal(res.status, 200)
        assert.deepEqual(await res.json(), { status: 'ready' })
      }
      const res = await fetch(`${url}/ready`, { headers: bearer(adminToken) })
      const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> }
      assert.equal(body.status, 'ready')
      assert.ok(Object.keys(body.checks).length > 0)
    }
  })
})
