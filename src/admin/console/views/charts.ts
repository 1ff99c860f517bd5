// The charts: applied records and dead letters per second, pending events, and the lag per partition in records and
// in seconds, over the samples GET /admin/series holds (an hour at the default interval), drawn with uPlot and
// asked for again at every sample while the section is shown. Each chart keeps its uPlot instance and only takes
// new data, unless its lines changed (a partition came or went): then it is drawn anew.
import uPlot from 'uplot'
import {
  type ChartData,
  type ChartKey,
  type ChartSpec,
  chartData,
  chartSpecs,
  colourOf,
  countSteps,
  figureText,
  formatValue,
  refreshEveryMs,
  sameLines,
  spanText,
  yRange,
} from '../charts-data.ts'
import type { Context } from '../context.ts'
import { byId, h } from '../dom.ts'
import { ids } from '../ids.ts'

const chartHeight = 220

interface Slot {
  readonly figure: HTMLElement
  readonly canvas: HTMLDivElement
  readonly now: HTMLParagraphElement
  plot?: uPlot
  data?: ChartData
}

/** The page's own colours, so that the axes read in light and in dark mode alike. */
function colours(): { text: string; grid: string } {
  const style = getComputedStyle(document.documentElement)
  return {
    text: style.getPropertyValue('--muted').trim() || '#57606a',
    grid: style.getPropertyValue('--line').trim() || '#d0d7de',
  }
}

function optionsOf(spec: ChartSpec, data: ChartData, width: number): uPlot.Options {
  const { text, grid } = colours()
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
  return {
    width,
    height: chartHeight,
    scales: { y: { range: (_u, _min, max) => yRange(max) } },
    series: [
      {},
      ...data.lines.map((label, k) => ({
        label,
        stroke: colourOf(k),
        width: 1.5,
        value: (_u: uPlot, v: number | null) => formatValue(spec.unit, v),
      })),
    ],
    axes: [
      axis,
      {
        ...axis,
        size: 70,
        ...(spec.unit === 'count' ? { incrs: [...countSteps] } : {}),
        values: (_u, splits) => splits.map(v => formatValue(spec.unit, v, 2)),
      },
    ],
  }
}

export class ChartsView {
  readonly #context: Context
  readonly #slots = new Map<ChartKey, Slot>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #running = false

  constructor(context: Context) {
    this.#context = context
    const grid = byId(ids.chartsGrid, HTMLDivElement)
    for (const spec of chartSpecs) {
      const canvas = h('div', { className: 'chart-canvas' })
      const now = h('p', { className: 'muted' })
      const figure = h('figure', { className: 'chart' }, h('figcaption', {}, spec.title), canvas, now)
      figure.dataset['chart'] = spec.key
      grid.append(figure)
      this.#slots.set(spec.key, { figure, canvas, now })
    }
    window.addEventListener('resize', () => {
      if (!this.#running) return
      for (const slot of this.#slots.values()) slot.plot?.setSize({ width: this.#widthOf(slot), height: chartHeight })
    })
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#tick()
  }

  stop(): void {
    this.#running = false
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  /** One refresh, then the next one after the interval the answer gives (a failed one tries again in 5 s). */
  #tick(): void {
    let every = 5000
    this.#context.guarded(async () => {
      try {
        every = refreshEveryMs((await this.refresh()).intervalMs)
      } finally {
        if (this.#running) this.#timer = setTimeout(() => this.#tick(), every)
      }
    })
  }

  async refresh(): Promise<{ intervalMs: number }> {
    const series = await this.#context.api.series()
    byId(ids.chartsSpan, HTMLParagraphElement).textContent = series.note
      ? `${spanText(series)} ${series.note}`
      : spanText(series)
    for (const spec of chartSpecs) this.#draw(spec, chartData(series, spec.key))
    return series
  }

  #widthOf(slot: Slot): number {
    return Math.max(280, Math.floor(slot.canvas.clientWidth))
  }

  #draw(spec: ChartSpec, data: ChartData): void {
    const slot = this.#slots.get(spec.key)
    if (slot === undefined) return
    if (slot.plot !== undefined && sameLines(slot.data, data)) {
      slot.plot.setData(data.columns)
      // The window may have been resized while the section was hidden (and its charts had no width to take).
      const width = this.#widthOf(slot)
      if (slot.plot.width !== width) slot.plot.setSize({ width, height: chartHeight })
    } else {
      slot.plot?.destroy()
      slot.plot = new uPlot(optionsOf(spec, data, this.#widthOf(slot)), data.columns, slot.canvas)
    }
    slot.data = data
    slot.now.textContent = figureText(spec, data)
    slot.figure.dataset['points'] = String(data.columns[0].length)
    slot.figure.dataset['lines'] = String(data.lines.length)
  }
}
