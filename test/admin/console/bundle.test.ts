// The console's script as esbuild bundles it: one ES module for the browser, ASCII, and none of the server's
// code (the route schemas are imported as types only). Its stylesheet: console.css with uPlot's rules in it, so
// the page loads nothing from anywhere else.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bundleConsoleScript, bundleConsoleStyles } from '../../../src/admin/console-bundle.ts'

const ascii = (text: string) => [...text].findIndex(c => c.charCodeAt(0) > 0x7f)

describe('the console bundle', () => {
  it('holds the views, uPlot, and no server code', async () => {
    const script = await bundleConsoleScript({ minify: true })
    assert.match(script, /sign-in-form/)
    assert.match(script, /\/admin\/dlq\/redrive/)
    assert.match(script, /\/admin\/series/)
    assert.match(script, /uplot/, "uPlot's code, bundled in")
    for (const server of ['typebox', 'fastify', 'ioredis', 'node:', 'process.env']) {
      assert.ok(!script.includes(server), server)
    }
    assert.equal(ascii(script), -1)
    // About 50 KB of it is uPlot's.
    assert.ok(script.length < 110_000, `${script.length} characters`)
  })

  it("holds the console's rules and uPlot's, and imports nothing", async () => {
    const css = await bundleConsoleStyles({ minify: true })
    assert.match(css, /\.uplot\{/)
    assert.match(css, /\.u-legend/)
    assert.match(css, /#sign-in-form/)
    assert.match(css, /\.charts\{/)
    assert.ok(!css.includes('@import'))
    assert.equal(ascii(css), -1)
  })
})
