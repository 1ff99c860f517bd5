// The life of a rebuild, as a table of which state may follow which. Every change of state is one atomic step in
// Redis (rebuild-transition.lua) that checks the state it leaves against this table, so two processes acting on
// the same rebuild (a CLI and the admin API) cannot both move it, and a late writer never undoes a later state.
//
//   creating ─▶ filling ─▶ caught-up ─┬─▶ swapping ─▶ swapped ─┬─▶ done (old generation dropped)
//                  │  ▲        │       │                        └─▶ rolled-back ─▶ (filling again, swap, abort)
//                  ▼  │        ▼       │
//                 stopped ◀────┘       └─▶ aborted (shadow dropped)
//   failed: from any working state; resumable (filling) or abortable.
// `verifying` is not stored: a verify runs beside whatever the rebuild does, and status shows it while it runs.

export const rebuildStates = [
  'creating',
  'filling',
  'caught-up',
  'stopped',
  'swapping',
  'swapped',
  'rolled-back',
  'aborted',
  'failed',
  'done',
] as const

export type RebuildState = (typeof rebuildStates)[number]

/** What status reports: a stored state, or `verifying` while a comparison runs. */
export type ShownState = RebuildState | 'verifying'

/** States after which nothing remains to do: a new rebuild of the store may begin. */
export const finishedStates: readonly RebuildState[] = ['aborted', 'done']

/** For each state, the states it may follow. */
const follows: Readonly<Record<RebuildState, readonly RebuildState[]>> = {
  creating: [],
  // A fill starts after creation, and resumes a rebuild that stopped, failed, or was rolled back.
  filling: ['creating', 'stopped', 'failed', 'rolled-back'],
  'caught-up': ['filling'],
  stopped: ['filling', 'caught-up', 'swapping'],
  swapping: ['filling', 'caught-up', 'stopped', 'rolled-back'],
  swapped: ['swapping'],
  'rolled-back': ['swapped'],
  aborted: ['creating', 'filling', 'caught-up', 'stopped', 'failed', 'rolled-back'],
  failed: ['creating', 'filling', 'caught-up', 'swapping'],
  done: ['swapped'],
}

/** The states `to` may follow. */
export const fromStatesOf = (to: RebuildState): readonly RebuildState[] => follows[to]

export const mayFollow = (from: RebuildState, to: RebuildState): boolean => follows[to].includes(from)

/** Operator commands, and the states each needs. */
export type RebuildCommand = 'resume' | 'verify' | 'swap' | 'rollback' | 'abort' | 'drop-old'

const needs: Readonly<Record<RebuildCommand, readonly RebuildState[]>> = {
  resume: follows.filling,
  verify: ['filling', 'caught-up', 'stopped', 'rolled-back'],
  swap: follows.swapping,
  rollback: follows['rolled-back'],
  abort: follows.aborted,
  'drop-old': follows.done,
}

/** Whether `command` may run on a rebuild in `state` (the console enables its buttons by it). */
export const allowsCommand = (command: RebuildCommand, state: RebuildState): boolean => needs[command].includes(state)

/**
 * Why `command` cannot run on a rebuild in `state` (undefined: it can). The reason names what would help, so an
 * operator reading a refusal knows the next command.
 */
export function refusal(command: RebuildCommand, state: RebuildState | undefined, id?: number): string | undefined {
  if (state === undefined) return `there is no rebuild of this store: \`rebuild start\` begins one`
  if (allowsCommand(command, state)) return undefined
  const which = id === undefined ? 'the rebuild' : `rebuild ${id}`
  const next: Partial<Record<RebuildState, string>> = {
    creating: 'wait until it fills, or abort it',
    swapping: 'wait for the swap to end',
    swapped: '`rebuild rollback` switches back, `rebuild drop-old` finishes it',
    aborted: '`rebuild start` begins a new one',
    done: '`rebuild start` begins a new one',
    failed: '`rebuild start --resume` continues it, `rebuild abort` drops it',
    filling: '`rebuild verify`, `swap` or `abort` it',
    'caught-up': '`rebuild verify`, `swap` or `abort` it',
    stopped: '`rebuild start --resume` continues it; `verify`, `swap` or `abort` it',
    'rolled-back': '`rebuild start --resume`, `swap` again or `abort` it',
  }
  return `${which} is ${state}: cannot ${command} it now (${next[state] ?? 'see `rebuild status`'})`
}
