// Range queries against a Prometheus server's HTTP API (GET /api/v1/query_range): the one place the pipeline
// reads Prometheus. Every call is bounded: in time by the caller's signal, in memory by a cap on the answer's bytes
// (read as a stream and dropped past it), and in series by a cap on how many it keeps. An answer that is not the
// documented matrix fails with a message saying what was wrong; nothing of it is trusted before it is checked.

/** One series of a matrix: its labels and its points as [seconds since the epoch, value]. */
export interface RangeSeries {
  readonly labels: Readonly<Record<string, string>>
  /** NaN and ±Inf (Prometheus writes them as text) are left out: a gap, as the charts draw it. */
  readonly points: readonly (readonly [number, number])[]
}

export interface RangeQuery {
  /** The server's base URL (http:// or https://, with the path prefix it is served under, if any). */
  readonly url: string
  readonly promql: string
  /** Seconds since the epoch. */
  readonly start: number
  readonly end: number
  readonly stepSeconds: number
  readonly signal: AbortSignal
  /** Largest answer read, in bytes (default 4 MiB). */
  readonly maxBytes?: number
  /** Most series kept (default 1,000); the rest are counted in `dropped`. */
  readonly maxSeries?: number
}

export interface RangeResult {
  readonly series: RangeSeries[]
  /** Series of the answer past maxSeries. */
  readonly dropped: number
}

/** Prometheus did not answer, answered an error, or answered something that is not a range query's matrix. */
export class PrometheusQueryError extends Error {
  override readonly name = 'PrometheusQueryError'
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The text of a response, at most `maxBytes` of it: past that the read stops and the call fails. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  const length = Number(response.headers.get('content-length'))
  if (Number.isFinite(length) && length > maxBytes) {
    await response.body?.cancel()
    throw new PrometheusQueryError(`the answer has ${length} bytes, more than the ${maxBytes} read`)
  }
  const reader = response.body?.getReader()
  if (reader === undefined) return ''
  const chunks: Uint8Array[] = []
  let bytes = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    bytes += value.byteLength
    if (bytes > maxBytes) {
      await reader.cancel()
      throw new PrometheusQueryError(`the answer is longer than the ${maxBytes} bytes read`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The matrix of a query_range answer, checked field by field. */
export function parseMatrix(body: unknown, maxSeries = 1000): RangeResult {
  if (!isObject(body)) throw new PrometheusQueryError('the answer is not a JSON object')
  if (body['status'] !== 'success') {
    const error = typeof body['error'] === 'string' ? body['error'].slice(0, 200) : 'no reason given'
    throw new PrometheusQueryError(`the query failed: ${error}`)
  }
  const data = body['data']
  if (!isObject(data) || data['resultType'] !== 'matrix' || !Array.isArray(data['result'])) {
    throw new PrometheusQueryError('the answer holds no matrix (data.resultType, data.result)')
  }
  const result = data['result'] as unknown[]
  const series: RangeSeries[] = []
  for (const item of result.slice(0, maxSeries)) {
    if (!isObject(item) || !isObject(item['metric']) || !Array.isArray(item['values'])) {
      throw new PrometheusQueryError('a series of the matrix has no metric or no values')
    }
    const labels: Record<string, string> = {}
    for (const [name, value] of Object.entries(item['metric'])) if (typeof value === 'string') labels[name] = value
    const points: [number, number][] = []
    for (const point of item['values'] as unknown[]) {
      if (!Array.isArray(point) || typeof point[0] !== 'number' || typeof point[1] !== 'string') {
        throw new PrometheusQueryError('a point of the matrix is not [time, "value"]')
      }
      const value = Number(point[1])
      if (Number.isFinite(value)) points.push([point[0], value])
    }
    series.push({ labels, points })
  }
  return { series, dropped: Math.max(0, result.length - maxSeries) }
}

export async function queryRange(query: RangeQuery): Promise<RangeResult> {
  const params = new URLSearchParams({
    query: query.promql,
    start: String(query.start),
    end: String(query.end),
    step: String(query.stepSeconds),
  })
  let response: Response
  try {
    response = await fetch(`${query.url.replace(/\/+$/, '')}/api/v1/query_range?${params}`, {
      signal: query.signal,
      headers: { accept: 'application/json' },
    })
  } catch (error) {
    const reason = query.signal.aborted ? 'no answer in time' : (error as Error).message
    throw new PrometheusQueryError(reason, { cause: error })
  }
  let text: string
  try {
    text = await boundedText(response, query.maxBytes ?? 4 * 1024 * 1024)
  } catch (error) {
    if (error instanceof PrometheusQueryError) throw error
    throw new PrometheusQueryError(query.signal.aborted ? 'no answer in time' : (error as Error).message, {
      cause: error,
    })
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new PrometheusQueryError(`the answer (HTTP ${response.status}) is not JSON`)
  }
  return parseMatrix(body, query.maxSeries)
}
