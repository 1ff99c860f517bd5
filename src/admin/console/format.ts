// How the console writes numbers, times, durations, sizes and long text. Pure: no DOM, so unit tests drive it.

const numbers = new Intl.NumberFormat()

/** A count in the browser's locale; a dash when the server sent none. */
export function formatNumber(n: number | null | undefined): string {
  return typeof n === 'number' && Number.isFinite(n) ? numbers.format(n) : '–'
}

/** `1 entry`, `2 entries`. */
export function plural(n: number, one: string, many: string): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`
}

export const entryCount = (n: number): string => plural(n, 'entry', 'entries')

/** An ISO-8601 time in the browser's zone and locale; the text as it came when it is not a time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '–'
  const at = new Date(iso)
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString()
}

const units: readonly (readonly [string, number])[] = [
  ['d', 86_400],
  ['h', 3600],
  ['min', 60],
  ['s', 1],
]

/** Whole seconds in the largest unit and, when not zero, the next one: `45 s`, `3 min 5 s`, `2 h`, `1 d 4 h`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–'
  const whole = Math.max(0, Math.round(seconds))
  const first = units.findIndex(([, size]) => whole >= size)
  const [unit, size] = units[first] ?? ['s', 1]
  const count = Math.floor(whole / size)
  const next = units[first + 1]
  const rest = next === undefined ? 0 : Math.floor((whole - count * size) / next[1])
  return next !== undefined && rest > 0 ? `${count} ${unit} ${rest} ${next[0]}` : `${count} ${unit}`
}

const byteUnits = ['KiB', 'MiB', 'GiB', 'TiB'] as const

/** A size in bytes, binary units above 1 KiB with one decimal: `512 B`, `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–'
  if (bytes < 1024) return `${formatNumber(bytes)} B`
  let value = bytes
  let unit: string = byteUnits[0]
  for (const next of byteUnits) {
    value /= 1024
    unit = next
    if (value < 1024) break
  }
  return `${value.toFixed(1)} ${unit}`
}

/** `text` cut to `max` characters, the last one an ellipsis, so a table cell stays one line. */
export function truncate(text: string, max: number): string {
  if (max < 1) return ''
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** A Kafka position as `topic/partition@offset`; a record the producer dead-lettered has none. */
export function formatPosition(
  position: { readonly topic: string; readonly partition: number; readonly offset: string } | null | undefined,
): string {
  return position ? `${position.topic}/${position.partition}@${position.offset}` : 'never reached Kafka'
}
