// The container image ships src/ and the production dependencies only: the product must import nothing else.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { sourceFiles } from '../helpers/sources.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const src = join(root, 'src')

/** The relative specifiers of a file's static and dynamic imports and re-exports. */
function relativeImports(text: string): string[] {
  const found = text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)
  return [...found].map(m => m[1] as string)
}

it('src/ imports nothing outside src/ but packages (no dev/, bench/, test/ or scripts/ code)', () => {
  const files = sourceFiles(src)
  assert.ok(files.length > 50, `found ${files.length} source files`)
  const outside: string[] = []
  for (const file of files) {
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier)
      if (relative(src, target).startsWith('..')) outside.push(`${relative(root, file)} → ${specifier}`)
    }
  }
  assert.deepEqual(outside, [])
})

it('sees an import that leaves src/', () => {
  assert.deepEqual(relativeImports("import { x } from '../../dev/kafka/local-broker.ts'\nexport * from './a.ts'"), [
    '../../dev/kafka/local-broker.ts',
    './a.ts',
  ])
})
