// What the conformance suites share: a fresh database per test, a store that closes itself, and an assertion
// on the PipelineError a promise rejects with.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { Database } from '../../src/config/index.ts'
import { PipelineError } from '../../src/errors.ts'
import { type ApplyResult, createStore, type Store } from '../../src/store/index.ts'

/** Gives each test a fresh, empty database of the engine under test (cleaned up after the test). */
export type FreshDatabase = (t: TestContext) => Promise<Database>

export async function openStore(t: TestContext, database: Database, migrate = true): Promise<Store> {
  const store = await createStore(database)
  t.after(() => store.close())
  if (migrate) await store.migrate()
  return store
}

/** An ApplyResult with nothing pending, resolved or refused, which most batches of the conformance suite are. */
export function outcome(counts: Pick<ApplyResult, 'upserts' | 'stale' | 'deltasApplied' | 'deltasDuplicate'>) {
  return { ...counts, pending: 0, pendingPositions: [], resolved: 0, conflicts: [] }
}

export async function assertPipelineError(
  promise: Promise<unknown>,
  expected: { code: string | string[]; retryable: boolean; constraint?: string; message?: RegExp },
): Promise<PipelineError> {
  const error = await promise.then(
    () => assert.fail('expected a PipelineError'),
    (e: unknown) => e,
  )
  assert.ok(error instanceof PipelineError, `expected a PipelineError, got ${String(error)}`)
  const codes = Array.isArray(expected.code) ? expected.code : [expected.code]
  assert.ok(codes.includes(error.code), `code ${error.code} not in ${codes.join(', ')}: ${error.message}`)
  assert.equal(error.retryable, expected.retryable)
  if (expected.constraint !== undefined) assert.equal(error.constraint, expected.constraint)
  if (expected.message !== undefined) assert.match(error.message, expected.message)
  return error
}
