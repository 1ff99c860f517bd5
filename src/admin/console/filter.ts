// The dead-letter filter form as the admin API's filter. Pure: the view hands in the form's values.
import type { Filter } from './types.ts'

const textFields = ['type', 'code', 'key', 'eventId', 'source'] as const
const timeFields = ['since', 'until'] as const

/** Empty fields left out, text trimmed, the form's local times (`datetime-local`) as ISO-8601 UTC. */
export function filterOf(value: (name: string) => string, toIso = (local: string) => new Date(local).toISOString()) {
  const filter: Record<string, string> = {}
  for (const name of textFields) {
    const text = value(name).trim()
    if (text !== '') filter[name] = text
  }
  for (const name of timeFields) {
    const local = value(name)
    if (local !== '') filter[name] = toIso(local)
  }
  // The server checks the code and source against its lists and answers 400 to anything else.
  return filter as Filter
}

/** The page size the form asks for, within the API's 1 to 1000, 50 when empty or not a number. */
export function pageLimit(text: string): number {
  const n = Number.parseInt(text, 10)
  return Number.isFinite(n) ? Math.min(1000, Math.max(1, n)) : 50
}
