// The HTTP scenarios' schedule: every target warmed up once, then rounds of one run per target, so a noisy
// neighbour hurts the measured server and its ceiling alike.
import type { Context } from '../context.ts'
import { runHttp } from '../http.ts'
import { kafkaBroker, processId, sampleCpu } from '../process-cpu.ts'

export interface HttpTarget {
  /** The measurement this target's runs are added to. */
  readonly id: string
  readonly url: string
  /** Bodies (POST, cycled through) or paths (GET, picked at random). */
  readonly load: { readonly bodies?: readonly string[]; readonly paths?: readonly string[] }
  /** Events per request: when given, the measurement is in events/s and keeps req/s as a secondary figure. */
  readonly events?: number
  /**
   * The server's process: when given with `events`, its CPU and the broker's per event are kept as secondary
   * figures (serverCpuUsPerEvent, brokerCpuUsPerEvent).
   */
  readonly pid?: number | undefined
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
      const costs =
        t.pid === undefined || t.events === undefined
          ? undefined
          : { server: sampleCpu(processId(t.pid)), broker: sampleCpu(kafkaBroker) }
      const r = await runHttp({ url: t.url, method, connections, seconds: httpSeconds, ...t.load })
      const events = r.rps * httpSeconds * (t.events ?? 1)
      const perEvent: Record<string, number> =
        costs === undefined
          ? {}
          : {
              serverCpuUsPerEvent: (costs.server.stop() * 1000) / Math.max(1, events),
              brokerCpuUsPerEvent: (costs.broker.stop() * 1000) / Math.max(1, events),
            }
      ctx.say(
        `${t.id} ${round}: ${Math.round(r.rps).toLocaleString()} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms` +
          (costs === undefined
            ? ''
            : `, server CPU ${perEvent['serverCpuUsPerEvent']?.toFixed(1)} µs/event, broker ${perEvent['brokerCpuUsPerEvent']?.toFixed(1)}`),
      )
      if (r.errors > 0 || r.non2xx > 0) {
        ctx.results.problems.push(`${t.id} run ${round}: ${r.errors} errors, ${r.non2xx} non-2xx answers`)
      }
      if (t.events === undefined) ctx.results.add(t.id, r.rps, { p50Ms: r.p50, p99Ms: r.p99 })
      else
        ctx.results.add(t.id, r.rps * t.events, {
          p50Ms: r.p50,
          p99Ms: r.p99,
          requestsPerSecond: r.rps,
          ...perEvent,
        })
    }
  }
}
