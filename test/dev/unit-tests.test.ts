import assert from 'node:assert/strict'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { needsServices, unitTestFiles } from '../../dev/unit-tests.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

it('tells the tests that need a service from those that need none, by their imports', () => {
  for (const file of ['test/store/postgres/store.test.ts', 'test/dlq/redis.test.ts', 'test/faults/sigkill.test.ts']) {
    assert.equal(needsServices(root, file), true, file)
  }
  for (const file of ['test/store/batch.test.ts', 'test/consumer/schedule.test.ts', 'test/config/config.test.ts']) {
    assert.equal(needsServices(root, file), false, file)
  }
  const unit = unitTestFiles(root)
  assert.ok(unit.includes('test/dev/unit-tests.test.ts'))
  assert.ok(!unit.includes('test/e2e/pipeline.test.ts'))
})
