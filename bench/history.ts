// bench/history.tsv: one line per full run of `npm run bench` (and per --quick or partial run given --history),
// so a regression shows as a line in the repository, not as a memory. Tab-separated, one header line; the
// columns are described in docs/performance.md ("History"). A cell is '-' when the run did not measure it.
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import type { Goal } from './goals.ts'
import type { Results } from './report.ts'

export const historyColumns = [
  'date',
  'commit',
  'mode',
  'events',
  'runs',
  'machine',
  'drain_eps',
  'drain_cpu_us',
  'drain_pg_cpu_us',
  'consumer_eps_per_core',
  'postgres_eps_per_core',
  'copy_eps',
  'drain_vs_copy',
  'produce100_eps',
  'java_eps',
  'produce_vs_java',
  'read_rps',
  'read_p99_ms',
  'constant_rps',
  'read_vs_constant',
  'rss_mb',
  'scale1_eps',
  'scaleN_eps',
  'scale_ratio',
  'goal_drain',
  'goal_produce',
  'goal_read',
  'goal_rss',
  'goal_scale',
  'goal_history',
  'problems',
] as const

export interface HistoryRun {
  /** ISO date and time the run started. */
  readonly date: string
  readonly commit: string
  /** full, quick, or the scenarios of an --only run. */
  readonly mode: string
  readonly events: number
  readonly runs: number
  readonly machine: string
  readonly results: Results
  readonly goals: readonly Goal[]
}

/** A cell: no tab or line break may reach the file, and an unmeasured figure is '-'. */
function cell(value: string | number | undefined, digits = 0): string {
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) return '-'
  if (typeof value === 'number') return value.toFixed(digits)
  return value.replace(/[\t\r\n]+/g, ' ').trim() || '-'
}

/** The run's line, without its line break, in the order of historyColumns. */
export function historyLine(run: HistoryRun): string {
  const r = run.results
  const goal = (id: string) => {
    const status = run.goals.find(g => g.id === id)?.status
    return status === undefined || status === 'not measured' ? '-' : status
  }
  const row: Record<(typeof historyColumns)[number], string> = {
    date: cell(run.date),
    commit: cell(run.commit),
    mode: cell(run.mode),
    events: cell(run.events),
    runs: cell(run.runs),
    machine: cell(run.machine),
    drain_eps: cell(r.median('drain.postgres')),
    drain_cpu_us: cell(r.extra('drain.postgres', 'cpuUsPerEvent'), 1),
    drain_pg_cpu_us: cell(r.extra('drain.postgres', 'postgresCpuUsPerEvent'), 1),
    consumer_eps_per_core: cell(1e6 / (r.extra('drain.postgres', 'cpuUsPerEvent') ?? Number.NaN)),
    postgres_eps_per_core: cell(1e6 / (r.extra('drain.postgres', 'postgresCpuUsPerEvent') ?? Number.NaN)),
    copy_eps: cell(r.median('copy.postgres')),
    drain_vs_copy: cell(r.ratio('drain.postgres', 'copy.postgres'), 3),
    produce100_eps: cell(r.median('http.produce.batch')),
    java_eps: cell(r.median('java.producer')),
    produce_vs_java: cell(r.ratio('http.produce.batch', 'java.producer'), 3),
    read_rps: cell(r.median('read.orders')),
    read_p99_ms: cell(r.extra('read.orders', 'p99Ms'), 1),
    constant_rps: cell(r.median('read.constant')),
    read_vs_constant: cell(r.ratio('read.orders', 'read.constant'), 3),
    rss_mb: cell(r.median('rss.drain'), 1),
    scale1_eps: cell(r.median('scale.drain.1')),
    scaleN_eps: cell(r.median('scale.drain.n')),
    scale_ratio: cell(r.ratio('scale.drain.n', 'scale.drain.1'), 3),
    goal_drain: goal('drain'),
    goal_produce: goal('produce'),
    goal_read: goal('read'),
    goal_rss: goal('rss'),
    goal_scale: goal('scale'),
    goal_history: goal('history'),
    problems: cell(r.problems.length),
  }
  return historyColumns.map(c => row[c]).join('\t')
}

export const historyHeader = historyColumns.join('\t')

/**
 * Appends `line` to the history file, writing the header first when the file is new. A file whose header is not
 * this bench's is left alone: columns that moved would put figures under the wrong names.
 */
export function appendHistory(path: string, line: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8').trim() !== '') {
    const header = readFileSync(path, 'utf8').split('\n', 1)[0]
    if (header !== historyHeader) {
      throw new Error(
        `${path} starts with other columns than this bench writes; add the new columns to its header (and a '-' ` +
          'to its older lines) before appending',
      )
    }
    appendFileSync(path, `${line}\n`)
  } else appendFileSync(path, `${historyHeader}\n${line}\n`)
}

/** The commit the run measured: short hash, with "+dirty" when the work tree had uncommitted changes. */
export function currentCommit(): string {
  try {
    const hash = execFileSync('git', ['rev-parse', '--short=10', 'HEAD'], { encoding: 'utf8', timeout: 5000 }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      timeout: 5000,
    })
      .split('\n')
      .some(line => line.trim() !== '' && !line.endsWith('bench/history.tsv'))
    return dirty ? `${hash}+dirty` : hash
  } catch {
    return 'unknown'
  }
}
