// The HTTP scenarios' schedule: every target warmed up once, then rounds of one run per target, so a noisy
// neighbour hurts the measured server and its ceiling alike.
import type { Context } from '../context.ts'
import { runHttp } from '../http.ts'

export interface HttpTarget {
  /** The measurement this target's runs are added to. */
  readonly id: string
  readonly url: string
  /** Bodies (POST, cycled through) or paths (GET, picked at random). */
  readonly load: { readonly bodies?: readonly string[]; readonly paths?: readonly string[] }
  /** Events per request: when given, the measurement is in events/s and keeps req/s as a secondary figure. */
  readonly events?: number
}

export async function measureHttp(ctx: Context, method: 'GET' | 'POST', targets: readonly HttpTarget[]): Promise<void> {
  const { httpConnections: connections, httpSeconds, warmupSeconds, runs } = ctx.settings
  for (const t of targets) {
    ctx.status(`warming up ${t.id}`)
    await runHttp({ url: t.url, method, connections, seconds: warmupSeconds, ...t.load })
  }
  for (let round = 1; round <= runs; round++) {
    for (const t of targets) {
      ctx.status(`${t.id} ${round}: ${httpSeconds} s at ${connections} connections`)
      const r = await runHttp({ url: t.url, method, connections, seconds: httpSeconds, ...t.load })
      ctx.say(`${t.id} ${round}: ${Math.round(r.rps).toLocaleString()} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`)
      if (r.errors > 0 || r.non2xx > 0) {
        ctx.results.problems.push(`${t.id} run ${round}: ${r.errors} errors, ${r.non2xx} non-2xx answers`)
      }
      if (t.events === undefined) ctx.results.add(t.id, r.rps, { p50Ms: r.p50, p99Ms: r.p99 })
      else ctx.results.add(t.id, r.rps * t.events, { p50Ms: r.p50, p99Ms: r.p99, requestsPerSecond: r.rps })
    }
  }
}
