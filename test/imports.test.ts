// The folders of src/ and what each may import, as docs/architecture.md's map draws them: a folder imports only
// folders on lower floors, so the graph has no cycle and no arrow upwards. A new folder, or a new arrow, is a
// decision: make it here and in the map together.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { sourceFiles } from './helpers/sources.ts'

/** Floor of each top-level folder (or file) of src/: higher floors build on lower ones. */
export const floors: Readonly<Record<string, number>> = {
  errors: 0,
  config: 0,
  async: 0,
  version: 0,
  events: 1,
  redis: 1,
  kafka: 1,
  store: 2,
  observability: 3,
  http: 4,
  dlq: 4,
  consumer: 5,
  producer: 5,
  'dlq-ops': 5,
  'event-status': 5,
  rebuild: 6,
  admin: 7,
  api: 7,
  roles: 8,
  cli: 9,
}

const src = fileURLToPath(new URL('../src', import.meta.url))

const topOf = (path: string) => (relative(src, path).split(sep)[0] as string).replace(/\.ts$/, '')

it('imports only downwards between the folders of src/', () => {
  const wrong: string[] = []
  for (const file of sourceFiles(src)) {
    const from = topOf(file)
    if (floors[from] === undefined) wrong.push(`${relative(src, file)}: folder "${from}" is not on the map`)
    // Static and dynamic imports and re-exports alike.
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const to = topOf(resolve(dirname(file), match[1] as string))
      if (to === from) continue
      if ((floors[to] ?? Number.POSITIVE_INFINITY) >= (floors[from] ?? -1)) {
        wrong.push(`${relative(src, file)} imports ${to} (floor ${floors[to]}) from floor ${floors[from]}`)
      }
    }
  }
  assert.deepEqual(wrong, [])
})
