// The bench reads a PostgreSQL shadow generation with the same SQL as the live tables, through a URL whose
// startup options set the search_path to the generation's schema.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generationUrl } from '../../bench/databases.ts'

describe('generationUrl', () => {
  it('sets the search_path to the generation, keeping the rest of the URL', () => {
    const url = new URL(generationUrl('postgres://postgres@127.0.0.1:5432/ep_bench_x?sslmode=disable', 'rebuild_1'))
    assert.equal(url.pathname, '/ep_bench_x')
    assert.equal(url.searchParams.get('sslmode'), 'disable')
    assert.equal(url.searchParams.get('options'), '-c search_path=rebuild_1')
  })

  it('refuses a name that is not a generation name', () => {
    assert.throws(() => generationUrl('postgres://h/db', 'x; DROP'), /not a generation name/)
    assert.throws(() => generationUrl('postgres://h/db', 'Rebuild'), /not a generation name/)
  })
})
