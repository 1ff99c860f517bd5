// The benchmark's six goals, each judged on this run's medians and the ratios between measurements of the same run.
// A goal whose measurements this run did not take is "not measured", never MET: a --quick run, which skips the
// 1,000,000-event memory check, must not look like one that passed it.
import type { Results } from './report.ts'

export type GoalStatus = 'MET' | 'MISSED' | 'not measured'

export interface Goal {
  readonly id: string
  readonly name: string
  readonly status: GoalStatus
  /** What was measured, in words with its figures ('' when not measured). */
  readonly figure: string
  /** The figure the goal is judged on and the bound it must meet. */
  readonly judgedOn: string
  /** The figures themselves, for the history file: the ratio judged on, or the figure when there is none. */
  readonly value: number | undefined
}

export interface GoalContext {
  /** Events of the memory check's drain (0 when it did not run). */
  readonly rssEvents: number
  /** Whether this run appends its line to bench/history.tsv. */
  readonly history: boolean
}

/** The benchmark's goals: the bound each headline figure must meet. */
export const bounds = {
  drainVsCopy: 0.9,
  consumerCpuUsPerEvent: 12,
  produceVsJava: 0.8,
  readP99Ms: 10,
  readVsConstant: 0.8,
  rssMb: 200,
  rssEvents: 1_000_000,
} as const

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

/**
 * A ratio to three places, rounded down: a ratio under its bound never reads as the bound (0.6996 is "0.699×",
 * not "0.700×" beside MISSED).
 */
const ratioText = (value: number) => fmt(Math.floor(value * 1000 + 1e-9) / 1000, 3)

function judged(id: string, name: string, judgedOn: string, ok: boolean, figure: string, value: number): Goal {
  return { id, name, status: ok ? 'MET' : 'MISSED', figure, judgedOn, value }
}

function notMeasured(id: string, name: string, judgedOn: string, why: string): Goal {
  return { id, name, status: 'not measured', figure: why, judgedOn, value: undefined }
}

export function goals(results: Results, context: GoalContext): Goal[] {
  const out: Goal[] = []

  {
    const [id, name] = ['drain', 'drain → PostgreSQL near the COPY ceiling, cheap per event']
    const on = `drain/COPY ≥ ${bounds.drainVsCopy}× and consumer CPU ≤ ${bounds.consumerCpuUsPerEvent} µs/event`
    const rate = results.median('drain.postgres')
    const ratio = results.ratio('drain.postgres', 'copy.postgres')
    const cpu = results.extra('drain.postgres', 'cpuUsPerEvent')
    if (rate === undefined || ratio === undefined || cpu === undefined)
      out.push(notMeasured(id, name, on, 'needs the drain and copy scenarios'))
    else {
      const ok = ratio >= bounds.drainVsCopy && cpu <= bounds.consumerCpuUsPerEvent
      const figure = `${fmt(rate)} events/s = ${ratioText(ratio)}× COPY, consumer CPU ${fmt(cpu, 1)} µs/event`
      out.push(judged(id, name, on, ok, figure, ratio))
    }
  }

  {
    const [id, name] = ['produce', "POST /produce of 100-event arrays near Kafka's Java producer"]
    const on = `POST /produce / Java producer ≥ ${bounds.produceVsJava}×`
    const ours = results.median('http.produce.batch')
    const java = results.median('java.producer')
    const ratio = results.ratio('http.produce.batch', 'java.producer')
    if (ours === undefined || java === undefined || ratio === undefined)
      out.push(notMeasured(id, name, on, 'needs the http and java scenarios'))
    else {
      const figure = `${fmt(ours)} events/s against ${fmt(java)} records/s = ${ratioText(ratio)}×`
      out.push(judged(id, name, on, ratio >= bounds.produceVsJava, figure, ratio))
    }
  }

  {
    const [id, name] = ['read', 'GET /orders/{id} at 64 connections']
    const on = `p99 < ${bounds.readP99Ms} ms and orders/constant ≥ ${bounds.readVsConstant}×`
    const p99 = results.extra('read.orders', 'p99Ms')
    const ratio = results.ratio('read.orders', 'read.constant')
    const rate = results.median('read.orders')
    if (p99 === undefined || ratio === undefined || rate === undefined)
      out.push(notMeasured(id, name, on, 'needs the read scenario'))
    else {
      const ok = p99 < bounds.readP99Ms && ratio >= bounds.readVsConstant
      const figure = `p99 ${fmt(p99, 1)} ms, ${fmt(rate)} req/s = ${ratioText(ratio)}× the constant route`
      out.push(judged(id, name, on, ok, figure, ratio))
    }
  }

  {
    const [id, name] = ['rss', `consumer peak RSS over ${fmt(bounds.rssEvents)} events`]
    const on = `peak RSS < ${bounds.rssMb} MB`
    const rss = results.median('rss.drain')
    if (rss === undefined || context.rssEvents < bounds.rssEvents) {
      const why =
        context.rssEvents <= 0
          ? 'the memory check did not run (--quick or --only)'
          : rss === undefined
            ? 'needs the rss scenario'
            : `the memory check drained ${fmt(context.rssEvents)} events, fewer than the goal's`
      out.push(notMeasured(id, name, on, why))
    } else {
      const rate = results.extra('rss.drain', 'eventsPerSecond')
      const main = results.median('drain.postgres')
      const pace =
        rate === undefined
          ? ''
          : `, at ${fmt(rate)} events/s${main === undefined ? '' : ` (${fmt(rate / main, 2)}× the main drain)`}`
      out.push(judged(id, name, on, rss < bounds.rssMb, `${fmt(rss, 1)} MB${pace}`, rss))
    }
  }

  {
    const [id, name] = ['scale', 'scale-out: 3 consumer processes against 1 on 6 partitions']
    const on = 'the ratio is reported (the issue sets no bound)'
    const one = results.median('scale.drain.1')
    const many = results.median('scale.drain.n')
    const ratio = results.ratio('scale.drain.n', 'scale.drain.1')
    if (one === undefined || many === undefined || ratio === undefined)
      out.push(notMeasured(id, name, on, 'needs the scale scenario'))
    else {
      const figure = `${fmt(many)} against ${fmt(one)} events/s = ${ratioText(ratio)}×`
      out.push(judged(id, name, on, true, figure, ratio))
    }
  }

  {
    const [id, name] = ['history', 'a line in bench/history.tsv']
    const on = 'every full run appends one line'
    if (context.history) out.push(judged(id, name, on, true, 'appended by this run', 1))
    else out.push(notMeasured(id, name, on, 'not a full run (--quick or --only) and no --history'))
  }
  return out
}

export function goalsTable(list: readonly Goal[]): string {
  const width = Math.max(...list.map(g => g.status.length))
  return list
    .map(
      (g, i) =>
        `${g.status.padEnd(width)}  ${i + 1}. ${g.name}: ${g.figure}` +
        `${g.status === 'not measured' ? '' : `\n${' '.repeat(width + 5)}judged on ${g.judgedOn}`}`,
    )
    .join('\n')
}
