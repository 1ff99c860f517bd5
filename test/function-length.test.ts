// No function in src/ is longer than 120 lines: a function that long holds several ideas, and each idea is easier
// to read, test and change as a function (or a class method) of its own. Measured on the TypeScript syntax tree,
// from the line of a function's first token to the line of its last, so comments inside count and a long argument
// list counts too.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { sourceFiles } from './helpers/sources.ts'

export const MAX_FUNCTION_LINES = 120

const src = fileURLToPath(new URL('../src', import.meta.url))

/** Every function-like node of one source text longer than `max` lines, as "name:line (n lines)". */
export function longFunctions(fileName: string, text: string, max = MAX_FUNCTION_LINES): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const lines = last - first + 1
      if (lines > max) {
        const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)'
        found.push(`${name}:${first + 1} (${lines} lines)`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

it('finds a function over the limit, and not one at it', () => {
  const body = (n: number) => `function f() {\n${'  x()\n'.repeat(n - 2)}}\n`
  assert.deepEqual(longFunctions('a.ts', body(MAX_FUNCTION_LINES)), [])
  assert.deepEqual(longFunctions('a.ts', body(MAX_FUNCTION_LINES + 1)), [`f:1 (${MAX_FUNCTION_LINES + 1} lines)`])
  const method = `class C {\n  m() {\n${'    x()\n'.repeat(MAX_FUNCTION_LINES)}  }\n}\n`
  assert.deepEqual(longFunctions('a.ts', method), [`m:2 (${MAX_FUNCTION_LINES + 2} lines)`])
  const arrow = `const g = () => {\n${'  x()\n'.repeat(MAX_FUNCTION_LINES)}}\n`
  assert.deepEqual(longFunctions('a.ts', arrow), [`(anonymous):1 (${MAX_FUNCTION_LINES + 2} lines)`])
})

it(`has no function in src/ over ${MAX_FUNCTION_LINES} lines`, () => {
  const long = sourceFiles(src).flatMap(file =>
    longFunctions(file, readFileSync(file, 'utf8')).map(found => `${relative(src, file)} ${found}`),
  )
  assert.deepEqual(long, [])
})
