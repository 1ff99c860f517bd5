// The error reference (docs/errors.md): generated from the taxonomy, complete (every code says what it means
// and what to do), the same set of codes as the OpenAPI document's enum and as the codes the sources answer
// with, and the statuses it lists are the ones the code answers.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { errorCodes, PipelineError } from '../src/errors.ts'
import { buildBaseApp, errorRows, errorTable, httpOnlyCodes, mapError } from '../src/http/index.ts'
import { createLogger, createRegistry } from '../src/observability/index.ts'
import { sourceFiles } from './helpers/sources.ts'

const src = fileURLToPath(new URL('../src', import.meta.url))
const docPath = fileURLToPath(new URL('../docs/errors.md', import.meta.url))

/** The `enum` of the first object under `schema` that has one (the error body's `code`). */
function enumIn(schema: unknown): unknown[] | undefined {
  if (schema === null || typeof schema !== 'object') return undefined
  const record = schema as Record<string, unknown>
  if (Array.isArray(record['enum'])) return record['enum']
  for (const value of Object.values(record)) {
    const found = enumIn(value)
    if (found !== undefined) return found
  }
  return undefined
}

describe('the error reference', () => {
  it('docs/errors.md holds the table `pipeline error-table` prints', () => {
    // The whole table, from its header to the last row: a row the taxonomy lost must fail here too.
    const doc = readFileSync(docPath, 'utf8').split('\n')
    const start = doc.findIndex(line => line.startsWith('| Code |'))
    const end = doc.findIndex((line, i) => i > start && !line.startsWith('|'))
    assert.equal(
      doc.slice(start, end === -1 ? undefined : end).join('\n'),
      errorTable(),
      'docs/errors.md is out of date: paste the output of `npm run -s pipeline -- error-table` into it',
    )
    const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
    const run = spawnSync(process.execPath, [main, 'error-table'], {
      env: { PATH: process.env['PATH'] ?? '' },
      encoding: 'utf8',
    })
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout, `${errorTable()}\n`)
  })

  it('lists every code once, each with a meaning, a next step and where it is seen', () => {
    const rows = errorRows()
    assert.deepEqual(
      rows.map(r => r.code),
      [...errorCodes, ...httpOnlyCodes],
    )
    assert.equal(new Set(rows.map(r => r.code)).size, rows.length, 'a code is listed twice')
    for (const row of rows) {
      // Whole sentences a reader can act on, not placeholders.
      assert.match(row.meaning, /^[A-Z`'].{15,}\.$/s, `${row.code}: its meaning is missing or not a sentence`)
      assert.match(row.action, /^[A-Z`'].{15,}\.$/s, `${row.code}: what to do is missing or not a sentence`)
      assert.ok(row.seen.length > 0, `${row.code}: says nowhere where it is seen`)
      assert.equal(new Set(row.seen).size, row.seen.length, `${row.code}: a place is listed twice`)
    }
  })

  it('gives a status exactly to the codes that reach a client, and Retry-After statuses to the retryable ones', () => {
    for (const row of errorRows()) {
      const http = row.seen.includes('http')
      assert.equal(row.statuses.length > 0, http, `${row.code}: a status is listed iff it is an HTTP answer`)
      for (const status of row.statuses) {
        assert.ok(status >= 400 && status <= 599, `${row.code}: ${status} is not an error status`)
        // An answer that asks to be retried says when (Retry-After), which the server sends only with 429 and 503.
        if (http && row.retryable) assert.ok([429, 503].includes(status), `${row.code}: retryable but ${status}`)
        if (http && !row.retryable) assert.ok(![429, 503].includes(status), `${row.code}: final but ${status}`)
      }
    }
  })

  it("lists the taxonomy's codes with the status and Retry-After the error handler gives them", () => {
    for (const row of errorRows()) {
      if (!(errorCodes as readonly string[]).includes(row.code) || row.statuses.length === 0) continue
      const mapped = mapError(new PipelineError(row.code as (typeof errorCodes)[number], 'x'))
      assert.deepEqual(row.statuses, [mapped.status], row.code)
      assert.equal(mapped.retryAfter !== undefined, row.retryable, `${row.code}: Retry-After iff retryable`)
    }
  })

  it("has the same codes as the OpenAPI document's enum of error.code", async t => {
    const app = buildBaseApp({
      role: 'api',
      logger: createLogger('silent', 'api'),
      registry: createRegistry('api', false),
      ready: async () => ({}),
    })
    t.after(() => app.close())
    const res = await app.inject('/openapi.json')
    assert.equal(res.statusCode, 200)
    const doc = res.json() as { components: { schemas: Record<string, unknown> } }
    const listed = enumIn(doc.components.schemas['ErrorBody'])
    assert.ok(listed !== undefined, 'the ErrorBody schema has no enum of codes')
    assert.deepEqual(
      [...listed].sort(),
      errorRows()
        .map(r => r.code as string)
        .sort(),
    )
  })

  it('covers every code the sources answer or throw with, at the status they answer it with', () => {
    const codes = new Set<string>(errorRows().map(r => r.code))
    const statusesOf = new Map(errorRows().map(r => [r.code as string, r.statuses]))
    const unlisted: string[] = []
    const wrongStatus: string[] = []
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, 'utf8')
      const where = file.slice(src.length + 1)
      // Errors thrown (PipelineError, HttpError) and answers sent by hand ({ error: { code: 'X', … } }).
      const thrown = [...text.matchAll(/new PipelineError\(\s*'([A-Z_]+)'/g)].map(m => m[1] as string)
      const sent = [...text.matchAll(/\berror: \{\s*code: '([A-Z_]+)'/g)].map(m => m[1] as string)
      const built = [...text.matchAll(/^\s*code: '([A-Z_]+)',?$/gm)].map(m => m[1] as string)
      for (const code of [...thrown, ...sent, ...built]) {
        // ERR_… are Node's and the drivers' own codes, which the store adapters translate into the taxonomy.
        if (!codes.has(code) && !code.startsWith('ERR_')) unlisted.push(`${where}: ${code}`)
      }
      for (const m of text.matchAll(/new HttpError\(\s*(\d{3}),\s*'([A-Z_]+)'/g)) {
        const [, status, code] = m as unknown as [string, string, string]
        if (!codes.has(code)) unlisted.push(`${where}: ${code}`)
        else if (!statusesOf.get(code)?.includes(Number(status))) wrongStatus.push(`${where}: ${code} ${status}`)
      }
    }
    assert.deepEqual(unlisted, [], 'codes the sources use that the reference does not list')
    assert.deepEqual(wrongStatus, [], 'statuses the sources answer that the reference does not list')
  })
})
