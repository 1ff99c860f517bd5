// The reference system's MSSQL_CONN format: ADO-style `key=value` pairs separated by `;`, keys case-insensitive with their
// ADO.NET and go-mssqldb synonyms, values optionally quoted. Errors name the key, never a value (see connection.ts).
// Our own splitter rather than @tediousjs/connection-string, which returns only a map: it keeps the last of two
// repeated keys, glues a part without "=" to the next key and reports neither a key nor a position when it fails.
import {
  apply,
  type Canonical,
  type Draft,
  finish,
  ignored,
  type MssqlConnectionOptions,
  Problems,
  synonyms,
} from './connection.ts'

type Pair = [key: string, value: string, quoted: boolean, position: number]

// A key is named in a message only when it is one this parser knows: text before an "=" may also be a piece of a
// password that held an unquoted ";", so an unknown key is identified by its position (1 for the first
// ;-separated part) and never by its text, not even a prefix of it.
const nameOf = (key: string, position: number) =>
  synonyms.has(key) || ignored.has(key) ? `"${key}"` : `the key at position ${position}`

/** Splits `a=1; b="x;y"; c={p}}q}` into pairs. Quoting follows ADO: "" inside "…", '' inside '…', }} inside {…}. */
function splitPairs(raw: string, problems: Problems): Pair[] {
  const pairs: Pair[] = []
  let i = 0
  let part = 0
  while (i < raw.length) {
    part++
    const eq = raw.indexOf('=', i)
    const semi = raw.indexOf(';', i)
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      const end = semi === -1 ? raw.length : semi
      if (raw.slice(i, end).trim() !== '') {
        problems.add(`position ${part} is not key=value (a value containing ";" must be quoted with "…", '…' or {…})`)
      }
      i = end + 1
      continue
    }
    const key = raw.slice(i, eq).trim().toLowerCase().replace(/\s+/g, ' ')
    let j = eq + 1
    while (raw[j] === ' ' || raw[j] === '\t') j++
    const open = raw[j]
    const close = open === '"' ? '"' : open === "'" ? "'" : open === '{' ? '}' : undefined
    let value = ''
    if (close !== undefined) {
      j++
      for (;;) {
        if (j >= raw.length) {
          problems.add(`the value of ${nameOf(key, part)} opens a quote that is never closed`)
          return pairs
        }
        if (raw[j] === close) {
          if (raw[j + 1] === close) {
            value += close
            j += 2
            continue
          }
          j++
          break
        }
        value += raw[j]
        j++
      }
      const end = raw.indexOf(';', j)
      if (raw.slice(j, end === -1 ? raw.length : end).trim() !== '') {
        problems.add(`the value of ${nameOf(key, part)} has characters after its closing quote`)
      }
      i = end === -1 ? raw.length : end + 1
    } else {
      const end = semi === -1 ? raw.length : semi
      value = raw.slice(eq + 1, end).trim()
      i = end + 1
    }
    pairs.push([key, value, close !== undefined, part])
  }
  return pairs
}

/** The known spelling within two edits of `key`, if any: most likely a typo of that key. */
function nearest(key: string): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const next = [i]
      for (let j = 1; j <= b.length; j++) {
        next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      }
      row = next
    }
    return row[b.length]!
  }
  return key.length > 3 ? [...synonyms.keys()].find(known => distance(key, known) <= 2) : undefined
}

/** Parses the reference system's MSSQL_CONN format: `server=mssql;user id=sa;password=…;database=events;encrypt=disable`. */
export function parseConnectionString(raw: string, variable = 'MSSQL_CONN'): MssqlConnectionOptions {
  const problems = new Problems(variable)
  const draft: Draft = {}
  const seen = new Map<Canonical, string>()
  // True from an unquoted password up to the next known key: an unknown "key" in between may be the rest of that
  // password, cut by a ";" it holds. Such a key gets no "did you mean" either, which would tell how close the
  // text is to a known key, and so something about the password.
  let afterBarePassword = false
  for (const [key, value, quoted, position] of splitPairs(raw, problems)) {
    const canonical = synonyms.get(key)
    if (canonical === undefined && !ignored.has(key)) {
      if (afterBarePassword) {
        problems.add(
          `an unknown key at position ${position}, after an unquoted password (quote a password that contains ";" with {…})`,
        )
        continue
      }
      const near = nearest(key)
      problems.add(`an unknown key at position ${position}${near === undefined ? '' : ` (did you mean "${near}"?)`}`)
      continue
    }
    afterBarePassword = canonical === 'password' && !quoted
    if (canonical === undefined) continue
    const earlier = seen.get(canonical)
    if (earlier !== undefined) {
      problems.add(`"${key}" repeats "${earlier}"`)
      continue
    }
    seen.set(canonical, key)
    apply(draft, canonical, value, problems)
  }
  return finish(draft, problems)
}
