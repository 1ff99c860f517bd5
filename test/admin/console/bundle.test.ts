// The console's script as esbuild bundles it: one ES module for the browser, ASCII, and none of the server's
// code (the route schemas are imported as types only).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bundleConsoleScript } from '../../../src/admin/console-bundle.ts'

describe('the console bundle', () => {
  it('holds the views and no server code', async () => {
    const script = await bundleConsoleScript({ minify: true })
    assert.match(script, /sign-in-form/)
    assert.match(script, /\/admin\/dlq\/redrive/)
    for (const server of ['typebox', 'fastify', 'ioredis', 'node:', 'process.env']) {
      assert.ok(!script.includes(server), server)
    }
    assert.equal(
      [...script].findIndex(c => c.charCodeAt(0) > 0x7f),
      -1,
    )
    assert.ok(script.length < 60_000, `${script.length} characters`)
  })
})
