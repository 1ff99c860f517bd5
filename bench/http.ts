// One autocannon run on loopback: requests per second (completed requests over the run's duration) and latency
// percentiles of the 2xx answers. Any error or non-2xx answer is reported: a fast server that refuses work
// must not look fast.
import autocannon from 'autocannon'

export interface HttpRun {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly non2xx: number
}

export interface HttpLoad {
  readonly url: string
  readonly method: 'GET' | 'POST'
  readonly connections: number
  readonly seconds: number
  /** Bodies (POST) or paths (GET), cycled through so requests are not all identical. */
  readonly bodies?: readonly string[]
  readonly paths?: readonly string[]
}

export async function runHttp(load: HttpLoad): Promise<HttpRun> {
  let i = 0
  const bodies = load.bodies?.map(b => Buffer.from(b))
  const paths = load.paths
  const result = await autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.seconds,
    method: load.method,
    headers: load.method === 'POST' ? { 'content-type': 'application/json' } : {},
    requests: [
      {
        setupRequest: request => {
          const n = i++
          if (bodies !== undefined) request.body = bodies[n % bodies.length]!
          if (paths !== undefined) request.path = paths[Math.floor(Math.random() * paths.length)]!
          return request
        },
      },
    ],
  })
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }
}
