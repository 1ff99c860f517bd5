import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { describe, it } from 'node:test'
import { buildBaseApp, defaultHttpLimits, type HttpLimits } from '../../src/http/index.ts'
import { createLogger, createRegistry } from '../../src/observability/index.ts'

function appWith(limits?: HttpLimits) {
  return buildBaseApp({
    role: 'api',
    logger: createLogger('silent', 'api'),
    registry: createRegistry('api', false),
    ready: async () => ({}),
    ...(limits === undefined ? {} : { limits }),
  })
}

describe('HTTP server limits', () => {
  it('sets every timeout and limit on the server, the defaults when none are given', async t => {
    const app = appWith()
    t.after(() => app.close())
    const server = app.server
    assert.equal(server.requestTimeout, 30_000)
    assert.equal(server.headersTimeout, 10_000)
    assert.equal(server.keepAliveTimeout, 5_000)
    assert.equal(server.timeout, 60_000)
    assert.equal(server.maxConnections, 1024)
    assert.equal(server.maxRequestsPerSocket, 1000)
    assert.deepEqual(defaultHttpLimits, {
      httpRequestTimeoutMs: 30_000,
      httpHeadersTimeoutMs: 10_000,
      httpKeepAliveTimeoutMs: 5_000,
      httpConnectionTimeoutMs: 60_000,
      httpMaxConnections: 1024,
      httpMaxRequestsPerSocket: 1000,
    })
  })

  it('keeps the headers timeout within the request timeout', async t => {
    const app = appWith({ ...defaultHttpLimits, httpRequestTimeoutMs: 2000, httpHeadersTimeoutMs: 9000 })
    t.after(() => app.close())
    assert.equal(app.server.requestTimeout, 2000)
    assert.equal(app.server.headersTimeout, 2000)
  })

  it('closes a keep-alive connection after HTTP_MAX_REQUESTS_PER_SOCKET requests', async t => {
    const app = appWith({ ...defaultHttpLimits, httpMaxRequestsPerSocket: 2 })
    t.after(() => app.close())
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const socket = connect({ port, host: '127.0.0.1' })
    let received = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk
    })
    const request = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n'
    socket.write(request)
    while (!received.includes('"status":"ok"')) await once(socket, 'data')
    socket.write(request)
    await once(socket, 'close')
    const answers = received.split('HTTP/1.1 ').slice(1)
    assert.equal(answers.length, 2)
    assert.match(answers[0] ?? '', /connection: keep-alive/i)
    assert.match(answers[1] ?? '', /connection: close/i)
  })
})
