// The pause view's pure parts: the partitions field read as a scope, one line on what is paused, whether the
// members stopped, a member's row, and the question asked before a pause or a resume.
import { formatTime } from './format.ts'
import type { PauseState } from './types.ts'

/** The partitions field: empty for every partition, else numbers separated by commas or blanks. */
export function partitionsOf(text: string): number[] | 'all' {
  const parts = text.split(/[\s,]+/).filter(p => p !== '')
  if (parts.length === 0) return 'all'
  return parts.map(p => {
    if (!/^[0-9]{1,7}$/.test(p)) throw new Error(`"${p}" is not a partition number`)
    return Number(p)
  })
}

const partitionText = (scope: number[] | 'all') =>
  scope === 'all' ? 'every partition' : `partition${scope.length === 1 ? '' : 's'} ${scope.join(', ')}`

/** One line on what is paused. */
export function pauseSummary(state: PauseState): string {
  if (state.all !== null) {
    const why = state.all.reason === '' ? '' : `: ${state.all.reason}`
    return `Every partition is paused, by ${state.all.by} since ${formatTime(state.all.at)}${why}.`
  }
  if (state.partitions.length === 0) return 'Nothing is paused.'
  return `${partitionText(state.partitions.map(p => p.partition))} paused.`.replace(/^./, c => c.toUpperCase())
}

/** Whether the members have stopped what is paused, for people. */
export function idleText(state: PauseState): string {
  if (state.all === null && state.partitions.length === 0) return ''
  if (state.members.length === 0) return 'No live member reports: none is running, or none has polled yet.'
  return state.idle ? 'Every live member has stopped what is paused.' : `Not idle yet: ${state.waitingFor.join('; ')}`
}

const numbers = (ps: readonly number[]) => (ps.length === 0 ? '–' : ps.join(', '))

/** A member's row: its id, what it owns, what of that is paused, what is still in flight, and whether it has
 * read the current record. */
export function memberCells(state: PauseState, m: PauseState['members'][number]): string[] {
  return [
    m.member,
    numbers(m.owned),
    numbers(m.paused),
    numbers(m.busy) + (m.sweeping ? ' (pending sweep)' : ''),
    m.revision >= state.revision ? 'yes' : `not yet (has revision ${m.revision} of ${state.revision})`,
    formatTime(m.at),
  ]
}

/** What the confirmation asks. */
export function confirmText(action: 'pause' | 'resume', scope: number[] | 'all', group: string): string {
  return action === 'pause'
    ? `Pause ${partitionText(scope)} of consumer group ${group}? Batches in flight finish; nothing else of ` +
        'these partitions is applied until they are resumed.'
    : `Resume ${partitionText(scope)} of consumer group ${group}? Processing goes on where it stopped.`
}
