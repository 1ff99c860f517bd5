// The shared timers: a deadline that never outlives its race, and sleeps that shutdown can cut short.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pause, sleep, withTimeout } from '../src/async.ts'

describe('withTimeout', () => {
  it('answers what the work answers in time', async () => {
    assert.equal(await withTimeout(Promise.resolve(7), 1000, 'the store'), 7)
  })

  it('passes on the work failing in time', async () => {
    await assert.rejects(withTimeout(Promise.reject(new Error('boom')), 1000, 'the store'), /boom/)
  })

  it('says what did not answer when the time is up', async () => {
    const never = new Promise<never>(() => {})
    await assert.rejects(withTimeout(never, 10, 'the database'), {
      message: 'the database did not answer within 10 ms',
    })
  })

  it('rejects with the error the caller builds when the time is up', async () => {
    class Late extends Error {}
    const never = new Promise<never>(() => {})
    await assert.rejects(
      withTimeout(never, 10, () => new Late('late')),
      (error: unknown) => error instanceof Late,
    )
  })

  it('clears its timer once the work settled', async t => {
    t.mock.timers.enable({ apis: ['setTimeout'] })
    let fired = false
    const result = withTimeout(Promise.resolve('done'), 50, () => {
      fired = true
      return new Error('late')
    })
    assert.equal(await result, 'done')
    t.mock.timers.tick(100)
    assert.equal(fired, false)
  })
})

describe('sleep', () => {
  it('resolves after about the time asked', async () => {
    const started = performance.now()
    await sleep(20)
    assert.ok(performance.now() - started >= 15)
  })
})

describe('pause', () => {
  it('answers true once the time has passed', async () => {
    assert.equal(await pause(5), true)
  })

  it('answers false at once when the signal is already aborted', async () => {
    const started = performance.now()
    assert.equal(await pause(10_000, AbortSignal.abort()), false)
    assert.ok(performance.now() - started < 1000)
  })

  it('answers false when the signal aborts during the sleep', async () => {
    const controller = new AbortController()
    const paused = pause(10_000, controller.signal)
    setTimeout(() => controller.abort(), 5)
    assert.equal(await paused, false)
  })
})
