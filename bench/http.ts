// One HTTP load run on loopback: requests per second (completed requests over the run's duration) and latency
// percentiles. Any error or non-2xx answer is reported: a fast server that refuses work must not look fast.
//
// Load generator: wrk (C, one thread: about a quarter of a core at 10,000 requests/s) when it is installed
// (`apt-get install wrk`), otherwise autocannon (Node: about a whole core at the same rate). On a 2-core machine
// the generator competes with the server it measures, so the lighter one gives the truer numbers;
// BENCH_LOAD_GENERATOR=autocannon|wrk forces one. The choice is printed and written to the results.
import { spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import autocannon from 'autocannon'
import { spec } from '../src/config/index.ts'

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
  /** Bodies (POST, cycled through) or paths (GET, picked at random), so requests are not all identical. */
  readonly bodies?: readonly string[]
  readonly paths?: readonly string[]
}

export type LoadGenerator = 'wrk' | 'autocannon'

/** Whether `command` is an executable file on PATH. */
export function onPath(command: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {}
  }
  return false
}

/** The generator this bench uses: BENCH_LOAD_GENERATOR, else wrk when it is on PATH, else autocannon. */
export function loadGenerator(): LoadGenerator {
  const wanted = process.env['BENCH_LOAD_GENERATOR']
  if (wanted === 'wrk' || wanted === 'autocannon') return wanted
  if (wanted !== undefined && wanted !== '') throw new Error(`BENCH_LOAD_GENERATOR must be wrk or autocannon`)
  return onPath('wrk') ? 'wrk' : 'autocannon'
}

export function runHttp(load: HttpLoad): Promise<HttpRun> {
  return loadGenerator() === 'wrk' ? runWrk(load) : runAutocannon(load)
}

async function runAutocannon(load: HttpLoad): Promise<HttpRun> {
  let i = 0
  const bodies = load.bodies?.map(b => Buffer.from(b))
  const paths = load.paths
  const result = await autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.seconds,
    method: load.method,
    // The servers close a keep-alive connection after HTTP_MAX_REQUESTS_PER_SOCKET requests (Node answers 503 to
    // any sent on it after that), and autocannon does not reconnect on `Connection: close` as wrk does: it opens
    // a new connection itself after as many requests, so a run longer than that measures answers, not refusals.
    reconnectRate: Number(spec.httpMaxRequestsPerSocket.default),
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

// Reads the bodies or paths (one per line: JSON.stringify output has no raw newline) and prints the summary as
// one JSON line. errors.status counts answers with a status of 400 or more.
const wrkScript = `
local items = {}
for line in io.lines(os.getenv("WRK_ITEMS")) do items[#items + 1] = line end
local post = os.getenv("WRK_METHOD") == "POST"
local headers = { ["Content-Type"] = "application/json" }
local n = 0
request = function()
  if post then
    n = n + 1
    return wrk.format("POST", nil, headers, items[(n % #items) + 1])
  end
  return wrk.format("GET", items[math.random(#items)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"socket":%d,"timeouts":%d,"status":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write, e.timeout, e.status))
end
`

interface WrkSummary {
  requests: number
  durationUs: number
  p50Us: number
  p99Us: number
  socket: number
  timeouts: number
  status: number
}

async function runWrk(load: HttpLoad): Promise<HttpRun> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'))
  try {
    const items = load.method === 'POST' ? (load.bodies ?? ['{}']) : (load.paths ?? [new URL(load.url).pathname])
    writeFileSync(join(dir, 'items'), `${items.join('\n')}\n`)
    writeFileSync(join(dir, 'script.lua'), wrkScript)
    // wrk takes whole seconds only.
    const seconds = Math.max(1, Math.round(load.seconds))
    const args = ['-t1', `-c${load.connections}`, `-d${seconds}s`, '--timeout', '10s']
    const child = spawn('wrk', [...args, '-s', join(dir, 'script.lua'), load.url], {
      env: { ...process.env, WRK_ITEMS: join(dir, 'items'), WRK_METHOD: load.method },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', resolve)
    })
    const line = /^WRK_JSON (.+)$/m.exec(out)?.[1]
    if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${code}): ${out.trim().slice(0, 500)}`)
    const s = JSON.parse(line) as WrkSummary
    return {
      rps: s.requests / (s.durationUs / 1e6),
      p50: s.p50Us / 1000,
      p99: s.p99Us / 1000,
      errors: s.socket + s.timeouts,
      non2xx: s.status,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
