// The part of autocannon's API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface Request {
    method?: string
    path?: string
    body?: string | Buffer
    headers?: Record<string, string>
    setupRequest?: (request: Request, context: unknown) => Request
  }
  interface Options {
    url: string
    connections?: number
    duration?: number
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    requests?: Request[]
    pipelining?: number
    timeout?: number
    /** Each connection is closed and opened again after this many requests. */
    reconnectRate?: number
  }
  interface Histogram {
    average: number
    mean: number
    total: number
    p50: number
    p90: number
    p99: number
    max: number
  }
  interface Result {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    latency: Histogram
    requests: Histogram
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
