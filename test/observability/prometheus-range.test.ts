// Range queries against Prometheus: a matrix is read field by field and anything else fails with a message that
// says what was wrong; an answer past the byte cap is dropped unread, and a server that never answers is left at
// the caller's deadline. The servers here are loopback sockets that misbehave on purpose, which a real Prometheus
// cannot be made to do; test/admin/series-prometheus.test.ts asks a real one.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { PrometheusQueryError, parseMatrix, queryRange } from '../../src/observability/index.ts'

const matrix = (result: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result } })

describe('parseMatrix', () => {
  it("reads the series' labels and points, leaving out NaN and infinities", () => {
    const parsed = parseMatrix(
      matrix([
        {
          metric: { partition: '0', topic: 'events' },
          values: [
            [100, '1.5'],
            [110, 'NaN'],
            [120, '+Inf'],
            [130, '2'],
          ],
        },
      ]),
    )
    assert.deepEqual(parsed, {
      series: [
        {
          labels: { partition: '0', topic: 'events' },
          points: [
            [100, 1.5],
            [130, 2],
          ],
        },
      ],
      dropped: 0,
    })
  })

  it('keeps at most maxSeries series and counts the rest', () => {
    const result = Array.from({ length: 5 }, (_, k) => ({ metric: { k: String(k) }, values: [] }))
    const parsed = parseMatrix(matrix(result), 2)
    assert.equal(parsed.series.length, 2)
    assert.equal(parsed.dropped, 3)
  })

  it('refuses what is not a matrix, saying what is wrong', () => {
    const cases: [unknown, RegExp][] = [
      ['text', /not a JSON object/],
      [{ status: 'error', error: 'parse error at char 5' }, /the query failed: parse error at char 5/],
      [{ status: 'success', data: { resultType: 'vector', result: [] } }, /no matrix/],
      [matrix([{ metric: {} }]), /no metric or no values/],
      [matrix([{ metric: {}, values: [[1, 2]] }]), /not \[time, "value"\]/],
      [matrix([{ metric: {}, values: ['x'] }]), /not \[time, "value"\]/],
    ]
    for (const [body, message] of cases) {
      assert.throws(
        () => parseMatrix(body),
        (error: Error) => error instanceof PrometheusQueryError && message.test(error.message),
      )
    }
  })
})

describe('queryRange', () => {
  const servers: Server[] = []
  after(() => {
    for (const server of servers) server.closeAllConnections()
    for (const server of servers) server.close()
  })

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler)
    servers.push(server)
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const query = (url: string, signal = AbortSignal.timeout(2000), maxBytes?: number) =>
    queryRange({ url, promql: 'up', start: 100, end: 200, stepSeconds: 10, signal, ...(maxBytes ? { maxBytes } : {}) })

  it('sends the query, span and step, under the path prefix', async () => {
    let asked: URL | undefined
    const url = await serve((request, response) => {
      asked = new URL(request.url ?? '/', 'http://x')
      response.setHeader('content-type', 'application/json')
      response.end(JSON.stringify(matrix([{ metric: {}, values: [[100, '3']] }])))
    })
    const result = await query(`${url}/prometheus/`)
    assert.deepEqual(result.series[0]?.points, [[100, 3]])
    assert.equal(asked?.pathname, '/prometheus/api/v1/query_range')
    assert.deepEqual(Object.fromEntries(asked?.searchParams ?? []), {
      query: 'up',
      start: '100',
      end: '200',
      step: '10',
    })
  })

  it('drops an answer past the byte cap, announced or streamed', async () => {
    const big = `{"status":"success","data":{"resultType":"matrix","result":[${'{"metric":{},"values":[]},'.repeat(5000)}{}]}}`
    const announced = await serve((_request, response) => response.end(big))
    await assert.rejects(query(announced, undefined, 10_000), /more than the 10000 read/)
    const streamed = await serve((_request, response) => {
      response.write(big.slice(0, 8000))
      response.write(big.slice(8000, 16_000))
      response.end(big.slice(16_000))
    })
    await assert.rejects(query(streamed, undefined, 10_000), /longer than the 10000 bytes read/)
  })

  it('gives up at the deadline on a server that never answers', async () => {
    const url = await serve(() => {})
    const started = Date.now()
    await assert.rejects(query(url, AbortSignal.timeout(300)), /no answer in time/)
    assert.ok(Date.now() - started < 2000)
  })

  it('fails plainly on a refused connection and on an answer that is not JSON', async () => {
    const url = await serve((_request, response) => {
      response.statusCode = 502
      response.end('<html>bad gateway</html>')
    })
    await assert.rejects(query(url), /the answer \(HTTP 502\) is not JSON/)
    const closed = await serve(() => {})
    const server = servers.pop()!
    await new Promise(resolve => server.close(resolve))
    await assert.rejects(query(closed), PrometheusQueryError)
  })
})
