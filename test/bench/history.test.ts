// bench/history.tsv gets one line per run, under one header, with '-' for what the run did not measure; a file
// whose columns are not this bench's is never appended to.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { goals } from '../../bench/goals.ts'
import { appendHistory, historyColumns, historyHeader, historyLine } from '../../bench/history.ts'
import { Results } from '../../bench/report.ts'

const dir = mkdtempSync(join(tmpdir(), 'bench-history-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function run(figures: Record<string, [number, Record<string, number>?]>) {
  const results = new Results()
  for (const [id, [value, extra]] of Object.entries(figures)) {
    results.define({ id, label: id, unit: 'x' })
    results.add(id, value, extra)
  }
  return {
    date: '2025-01-01T00:00:00.000Z',
    commit: 'abc1234567',
    mode: 'full',
    events: 200_000,
    runs: 3,
    machine: '2 cores\tSome CPU\nwith a line break',
    results,
    goals: goals(results, { rssEvents: 1_000_000, history: true }),
  }
}

describe('bench history', () => {
  it('puts every figure under its column and "-" where nothing was measured', () => {
    const line = historyLine(
      run({
        'drain.postgres': [45_123.4, { cpuUsPerEvent: 38.26, postgresCpuUsPerEvent: 16 }],
        'copy.postgres': [70_000],
        'rss.drain': [231.44],
      }),
    )
    const cells = line.split('\t')
    assert.equal(cells.length, historyColumns.length)
    const row = Object.fromEntries(historyColumns.map((c, i) => [c, cells[i]]))
    assert.equal(row['machine'], '2 cores Some CPU with a line break')
    assert.equal(row['drain_eps'], '45123')
    assert.equal(row['drain_cpu_us'], '38.3')
    assert.equal(row['drain_pg_cpu_us'], '16.0')
    assert.equal(row['consumer_eps_per_core'], '26137', '1,000,000 / 38.26 µs')
    assert.equal(row['postgres_eps_per_core'], '62500')
    assert.equal(row['drain_vs_copy'], '0.645')
    assert.equal(row['rss_mb'], '231.4')
    assert.equal(row['java_eps'], '-')
    assert.equal(row['goal_drain'], 'MISSED')
    assert.equal(row['goal_produce'], '-')
    assert.equal(row['goal_rss'], 'MISSED')
    assert.equal(row['goal_history'], 'MET')
    assert.equal(row['problems'], '0')
  })

  it('writes the header once, then one line per run', () => {
    const path = join(dir, 'new.tsv')
    appendHistory(path, historyLine(run({})))
    assert.equal(
      historyLine(run({})).split('\t')[historyColumns.indexOf('consumer_eps_per_core')],
      '-',
      'no drain, no figure per core',
    )
    appendHistory(path, historyLine(run({ 'java.producer': [1] })))
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n')
    assert.equal(lines.length, 3)
    assert.equal(lines[0], historyHeader)
    assert.equal(lines[2]?.split('\t')[historyColumns.indexOf('java_eps')], '1')
  })

  it('refuses a file whose header has other columns', () => {
    const path = join(dir, 'old.tsv')
    writeFileSync(path, 'date\tcommit\n2024\tx\n')
    assert.throws(() => appendHistory(path, historyLine(run({}))), /other columns/)
    assert.equal(readFileSync(path, 'utf8'), 'date\tcommit\n2024\tx\n')
  })
})
