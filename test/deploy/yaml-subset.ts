// A strict parser for the plain subset of YAML the deploy/ files are written in, so the tests can read them
// without a YAML library: block mappings and block lists indented by two spaces, scalars that are plain words or
// JSON strings, JSON lists, and whole-line comments. Anything outside the subset (anchors, tags, block strings,
// single quotes, trailing comments, tabs, odd indentation) is an error naming the line, never a silent misreading.

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml }

interface Line {
  readonly number: number
  readonly indent: number
  readonly text: string
}

export class YamlSubsetError extends Error {}

const fail = (line: Line | undefined, why: string): never => {
  throw new YamlSubsetError(`line ${line?.number ?? 'end'}: ${why}`)
}

const keyPattern = /^([A-Za-z0-9_.-]+):(?: (.*))?$/

function scalar(raw: string, line: Line): Yaml {
  const text = raw.trim()
  if (text.startsWith('"') || text.startsWith('[') || text.startsWith('{')) {
    try {
      return JSON.parse(text) as Yaml
    } catch {
      return fail(line, `not a JSON string, list or object: ${text}`)
    }
  }
  if (/^[&*!|>'%@`]/.test(text)) fail(line, `outside the subset: ${text}`)
  if (text.includes(' #')) fail(line, 'trailing comments are outside the subset')
  if (text.includes(': ')) fail(line, 'a plain value may not contain ": " (quote it)')
  if (text === 'null' || text === '~') return null
  if (text === 'true' || text === 'false') return text === 'true'
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text)
  return text
}

function lines(source: string): Line[] {
  const out: Line[] = []
  source.split('\n').forEach((raw, i) => {
    const line = { number: i + 1, indent: 0, text: '' }
    if (raw.includes('\t')) fail(line, 'tabs are outside the subset')
    if (raw.endsWith('\r')) fail(line, 'CR line endings are outside the subset')
    const text = raw.trimEnd()
    const indent = text.length - text.trimStart().length
    if (text.trim() === '' || text.trimStart().startsWith('#')) return
    if (indent % 2 !== 0) fail(line, 'indentation must be a multiple of two spaces')
    out.push({ number: i + 1, indent, text: text.trimStart() })
  })
  return out
}

class Parser {
  readonly #lines: Line[]
  #i = 0

  constructor(source: string) {
    this.#lines = lines(source)
  }

  parse(): Yaml {
    if (this.#lines.length === 0) return null
    const value = this.#block(0)
    if (this.#i < this.#lines.length) fail(this.#lines[this.#i], 'unexpected indentation')
    return value
  }

  #block(indent: number): Yaml {
    const first = this.#lines[this.#i]
    if (first === undefined || first.indent !== indent) return fail(first, `expected indentation ${indent}`)
    return first.text === '-' || first.text.startsWith('- ') ? this.#list(indent) : this.#mapping(indent)
  }

  /** The value after `key:` or `-` when nothing follows on the line: a nested block, or null. */
  #nested(indent: number): Yaml {
    const next = this.#lines[this.#i]
    if (next === undefined || next.indent <= indent) return null
    if (next.indent !== indent + 2) fail(next, `expected indentation ${indent + 2}`)
    return this.#block(indent + 2)
  }

  #mapping(indent: number): Yaml {
    const out: { [key: string]: Yaml } = {}
    for (let line = this.#lines[this.#i]; line !== undefined && line.indent === indent; line = this.#lines[this.#i]) {
      if (line.text.startsWith('- ')) fail(line, 'a list item where a key was expected')
      const m = keyPattern.exec(line.text)
      if (m === null) return fail(line, `expected "key: value": ${line.text}`)
      const key = m[1]!
      if (Object.hasOwn(out, key)) fail(line, `duplicate key "${key}"`)
      this.#i++
      out[key] = m[2] === undefined || m[2].trim() === '' ? this.#nested(indent) : scalar(m[2], line)
    }
    return out
  }

  #list(indent: number): Yaml {
    const out: Yaml[] = []
    for (let line = this.#lines[this.#i]; line !== undefined && line.indent === indent; line = this.#lines[this.#i]) {
      if (!(line.text === '-' || line.text.startsWith('- '))) fail(line, 'a key where a list item was expected')
      const rest = line.text.slice(1).trim()
      if (rest === '') {
        this.#i++
        out.push(this.#nested(indent))
      } else if (keyPattern.test(rest)) {
        // `- key: value` opens a mapping whose keys sit two columns in, under `key`.
        this.#lines[this.#i] = { number: line.number, indent: indent + 2, text: rest }
        out.push(this.#mapping(indent + 2))
      } else {
        this.#i++
        out.push(scalar(rest, line))
      }
    }
    return out
  }
}

export function parseYamlSubset(source: string): Yaml {
  return new Parser(source).parse()
}
