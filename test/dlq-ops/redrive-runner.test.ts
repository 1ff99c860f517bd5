// The background runs of redrives started over HTTP: one per job, stopped and awaited on close.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DlqAdmin } from '../../src/dlq-ops/dlq-admin.ts'
import { RedriveBusy } from '../../src/dlq-ops/redrive.ts'
import { RedriveRunner } from '../../src/dlq-ops/redrive-runner.ts'
import { createLogger } from '../../src/observability/index.ts'

type Run = DlqAdmin['run']

/** A fake admin whose runs last until their signal aborts; it counts the runs it was asked for. */
function abortableAdmin() {
  const runs: { id: string; who: string; resumed: boolean }[] = []
  const run: Run = (id, options) => {
    runs.push({ id, who: options.who, resumed: options.resumed })
    return new Promise(resolve => {
      options.signal?.addEventListener('abort', () => resolve({ state: 'running', sent: 0 } as never))
    })
  }
  return { runs, admin: { run } }
}

describe('RedriveRunner', () => {
  it('runs a job once however often it is launched, and forgets it when it ends', async () => {
    const { runs, admin } = abortableAdmin()
    const runner = new RedriveRunner(admin, createLogger('silent', 'test'))
    runner.launch('a', 'admin-api 1', false)
    runner.launch('a', 'admin-api 2', true)
    assert.equal(runs.length, 1)
    assert.deepEqual(runs[0], { id: 'a', who: 'admin-api 1', resumed: false })
    assert.equal(runner.has('a'), true)
    await runner.close()
    assert.equal(runner.has('a'), false)
  })

  it('close aborts every run and waits for them all', async () => {
    const { runs, admin } = abortableAdmin()
    const runner = new RedriveRunner(admin, createLogger('silent', 'test'))
    runner.launch('a', 'x', false)
    runner.launch('b', 'x', true)
    assert.equal(runs.length, 2)
    await runner.close()
    assert.equal(runner.has('a') || runner.has('b'), false)
  })

  it('swallows a failed run, busy or not', async () => {
    for (const error of [new RedriveBusy('a', 1000), new Error('redis down')]) {
      const runner = new RedriveRunner({ run: () => Promise.reject(error) }, createLogger('silent', 'test'))
      runner.launch('a', 'x', false)
      await runner.close()
      assert.equal(runner.has('a'), false)
    }
  })
})
