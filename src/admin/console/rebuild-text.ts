// The rebuild view's pure parts: which commands the rebuild's state allows, its state in one line, the progress
// table and bar, the bad records, the verify report (counts, checksums, differing keys side by side, bounded),
// the question asked before a command that changes what is live, and the start form read as a request body.
import {
  allowsCommand,
  finishedStates,
  rebuildStates,
  type RebuildCommand as ServerCommand,
  type ShownState,
} from '../../rebuild/state.ts'
import { formatDuration, formatNumber, formatTime, plural, truncate } from './format.ts'
import type { RebuildStatus, RebuildVerify } from './types.ts'

/** The states status shows: the rebuild's stored states, and `verifying` while a comparison runs. */
export const shownStates = [...rebuildStates, 'verifying'] as const

export type { ShownState }
/** The server's commands, and start. */
export type RebuildCommand = 'start' | ServerCommand

export const rebuildCommands: readonly RebuildCommand[] = [
  'start',
  'resume',
  'verify',
  'swap',
  'rollback',
  'abort',
  'drop-old',
]

/** What the commands need of a status: its state, and whether a process works on it (holds its lease). */
type Shown = Pick<RebuildStatus, 'state' | 'worker'>

/**
 * Whether `command` may run on the rebuild `status` shows (undefined: there is none). Start needs no rebuild or
 * a finished one; resume also takes a filling or caught-up rebuild that no process works on any more (its
 * process stopped), as the resume route does; rollback and drop-old wait until no process works on it.
 */
export function allowed(command: RebuildCommand, status: Shown | undefined): boolean {
  if (command === 'start') return status === undefined || finishedStates.some(state => state === status.state)
  if (status === undefined) return false
  if (command === 'resume' && (status.state === 'filling' || status.state === 'caught-up')) return !status.worker.active
  // Rollback and drop-old take the rebuild's lease without asking its holder to stop: after a swap, the process
  // that swapped holds it until it has applied what the live consumer applied meanwhile.
  if ((command === 'rollback' || command === 'drop-old') && status.worker.active) return false
  // The server's own table: a command it would refuse is disabled. It stays the authority: one it refuses anyway
  // (another process moved the rebuild meanwhile) answers 409, and the page shows its message. While a verify
  // runs (`verifying`, not a stored state) the page waits for it to end.
  return status.state !== 'verifying' && allowsCommand(command, status.state)
}

/** One line on the rebuild: which, its state, who started it when, and from where in the log. */
export function stateText(status: RebuildStatus | undefined): string {
  if (status === undefined) return 'No rebuild of this store. Start one to fill a shadow copy from the log.'
  const name = status.generation === null ? `Rebuild ${status.id}` : `Rebuild ${status.id} (${status.generation})`
  const by = status.by === null ? '' : `, started by ${status.by} at ${formatTime(status.startedAt)}`
  const from = status.from === null ? 'from the earliest record' : `from ${formatTime(status.from)}`
  const worker = status.worker.active ? '' : ' No process works on it now.'
  const running = ['filling', 'caught-up', 'swapping', 'creating', 'verifying'].includes(status.state)
  const settling =
    (status.state === 'swapped' || status.state === 'rolled-back') && status.worker.active
      ? ' Applying what the live consumer applied meanwhile…'
      : ''
  return `${name} is ${status.state}${by}, ${from}.${running ? worker : settling}`
}

type Progress = NonNullable<RebuildStatus['progress']>

/** A partition's row: partition, offset reached, log end, lag, rows/s, ETA. */
export function partitionCells(row: Progress['partitions'][number]): string[] {
  return [
    String(row.partition),
    formatNumber(Number(row.reached)),
    formatNumber(Number(row.end)),
    formatNumber(row.lag),
    formatNumber(row.perSecond),
    row.etaSeconds === null ? '–' : formatDuration(row.etaSeconds),
  ]
}

/** How much of the log the shadow has processed, 0 to 1: offsets reached over log ends, every partition summed. */
export function doneFraction(progress: Progress | null): number {
  if (progress === null) return 0
  if (progress.caughtUp) return 1
  let reached = 0
  let end = 0
  for (const p of progress.partitions) {
    reached += Math.min(Number(p.reached), Number(p.end))
    end += Number(p.end)
  }
  return end === 0 ? 1 : Math.max(0, Math.min(1, reached / end))
}

/** The progress in one line: caught up, or the records left, the rate and the time left. */
export function progressText(progress: Progress | null): string {
  if (progress === null) return 'No progress measured yet.'
  const at = ` (at ${formatTime(progress.at)})`
  if (progress.caughtUp) return `Caught up with the log end${at}.`
  const rate = progress.rated ? `${formatNumber(progress.perSecond)} rows/s` : 'rate not measured yet'
  const eta = progress.etaSeconds === null ? 'no ETA' : `ETA ${formatDuration(progress.etaSeconds)}`
  return `${plural(progress.lag, 'record', 'records')} behind, ${rate}, ${eta}${at}.`
}

type BadRecord = RebuildStatus['badRecords']['first'][number]

/** The bad records in one line: how many, and how many of them the list shows. */
export function badText(bad: RebuildStatus['badRecords']): string {
  if (bad.count === 0) return 'No bad records.'
  const shown = bad.first.length < bad.count ? ` (the first ${formatNumber(bad.first.length)} below)` : ''
  return `${plural(bad.count, 'bad record', 'bad records')}, dead-lettered by the live consumer${shown}.`
}

/** A bad record's row: code, position, eventId, message (cut to one line). */
export function badCells(bad: BadRecord): string[] {
  const position = bad.partition === null ? '–' : `${bad.partition}@${bad.offset ?? '?'}`
  return [bad.code, position, bad.eventId ?? '–', truncate(bad.message, 200)]
}

type VerifyTable = RebuildVerify['tables'][number]

/** The verify in one line: match, or which tables differ. */
export function verifyText(report: RebuildVerify): string {
  const at = `Verified at ${formatTime(report.summary.at)} by ${report.summary.by}`
  if (report.summary.matches) return `Match: every table holds the same rows live and rebuilt. ${at}.`
  const differ = report.tables.filter(t => !tableMatches(t)).map(t => t.table)
  return `Differ: ${differ.join(', ')}. ${at}.`
}

const tableMatches = (t: VerifyTable) =>
  t.liveRows === t.shadowRows && t.liveChecksum === t.shadowChecksum && t.differing.length === 0

/** A table's row: name, rows live and rebuilt, both checksums, and match or how many keys differ. */
export function tableCells(t: VerifyTable): string[] {
  const verdict = tableMatches(t) ? 'match' : `differ (${plural(t.differing.length, 'key', 'keys')} shown)`
  return [
    t.table,
    formatNumber(t.liveRows),
    formatNumber(t.shadowRows),
    truncate(t.liveChecksum, 20),
    truncate(t.shadowChecksum, 20),
    verdict,
  ]
}

/** Differing keys shown per table, and characters per version: a verify asked for many still fits the page. */
export const diffLimits = { keys: 50, chars: 2000 } as const

type Row = VerifyTable['differing'][number]['live']

/** One version of a differing row as text: indented JSON, cut; "(absent)" when that side has no such key. */
export function rowText(row: Row): string {
  return row === null ? '(absent)' : truncate(JSON.stringify(row, null, 2), diffLimits.chars)
}

/** The columns whose values differ between the two versions (every column when one side is absent). */
export function changedColumns(live: Row, shadow: Row): string[] {
  const names = [...new Set([...Object.keys(live ?? {}), ...Object.keys(shadow ?? {})])]
  if (live === null || shadow === null) return names
  return names.filter(n => JSON.stringify(live[n]) !== JSON.stringify(shadow[n]))
}

/** A table's differing keys, side by side: key, changed columns, live version, rebuilt version; at most diffLimits.keys. */
export function diffRows(t: VerifyTable): { key: string; changed: string; live: string; shadow: string }[] {
  return t.differing.slice(0, diffLimits.keys).map(d => ({
    key: truncate(d.key, 200),
    changed: changedColumns(d.live, d.shadow).join(', ') || '–',
    live: rowText(d.live),
    shadow: rowText(d.shadow),
  }))
}

/** What a command that changes or drops tables does, asked before it is sent. */
export function confirmText(command: 'swap' | 'rollback' | 'abort' | 'drop-old', status: RebuildStatus): string {
  const name = `rebuild ${status.id}`
  const generation = status.generation ?? 'the shadow generation'
  switch (command) {
    case 'swap':
      return (
        `Swap ${name} in? The live consumer group pauses while the shadow catches up to it, then ${generation}'s ` +
        'tables become the live ones in one step and the old tables are kept until Drop old. Reads answer from ' +
        'the rebuilt tables from then on.'
      )
    case 'rollback':
      return (
        `Roll back ${name}? The tables the swap replaced become the live ones again, and what was applied since ` +
        `the swap is applied to them; ${generation} stays, to be swapped again or aborted.`
      )
    case 'abort':
      return `Abort ${name}? Its fill stops and ${generation} is dropped; the live tables are not touched.`
    case 'drop-old':
      return `Drop the old tables of ${name}? Rollback is no longer possible afterwards.`
  }
}

/**
 * The start form's "from" field as the start route's body: empty for the earliest record, else a time in the
 * past (a datetime-local value, read in the browser's zone) sent as UTC ISO-8601.
 */
export function startBody(from: string, now = Date.now()): { from?: string } {
  const text = from.trim()
  if (text === '') return {}
  const at = new Date(text)
  if (Number.isNaN(at.getTime())) throw new Error(`"${truncate(text, 40)}" is not a time`)
  if (at.getTime() > now)
    throw new Error(`${formatTime(at.toISOString())} is in the future: a rebuild starts from the past`)
  return { from: at.toISOString() }
}
