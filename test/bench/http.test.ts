// The benchmark's HTTP runner must count what it measures honestly with either load generator: answers per
// second, and every error status, so that a server that refuses work never looks fast.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import { onPath, runHttp } from '../../bench/http.ts'

const wrkInstalled = onPath('wrk')

for (const generator of ['autocannon', 'wrk'] as const) {
  describe(`bench HTTP runner with ${generator}`, () => {
    const skip =
      generator === 'wrk' && !wrkInstalled
        ? "no wrk on the PATH: brew install wrk on macOS; on Linux your distribution's wrk package, or wrk built from its sources"
        : false
    it('counts answers, error statuses, and sends the bodies and paths it was given', { skip }, async t => {
      const previous = process.env['BENCH_LOAD_GENERATOR']
      process.env['BENCH_LOAD_GENERATOR'] = generator
      t.after(() => {
        if (previous === undefined) delete process.env['BENCH_LOAD_GENERATOR']
        else process.env['BENCH_LOAD_GENERATOR'] = previous
      })
      const seen = { bodies: new Set<string>(), paths: new Set<string>() }
      const app = Fastify()
      app.post('/produce', async request => {
        seen.bodies.add(JSON.stringify(request.body))
        return { ok: true }
      })
      app.get('/orders/:id', async (request, reply) => {
        seen.paths.add(request.url)
        return (request.params as { id: string }).id === 'bad' ? reply.code(500).send({ error: 'no' }) : { ok: true }
      })
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      t.after(() => app.close())

      const bodies = ['{"n":1}', '{"n":2}', '{"n":3}']
      const post = await runHttp({ url: `${url}/produce`, method: 'POST', connections: 4, seconds: 1, bodies })
      assert.ok(post.rps > 100, `${post.rps} req/s`)
      assert.equal(post.errors + post.non2xx, 0)
      assert.deepEqual([...seen.bodies].sort(), bodies)

      const get = await runHttp({
        url,
        method: 'GET',
        connections: 4,
        seconds: 1,
        paths: ['/orders/a', '/orders/b', '/orders/bad'],
      })
      assert.ok(get.non2xx > 0, 'the 500 answers are counted')
      assert.deepEqual([...seen.paths].sort(), ['/orders/a', '/orders/b', '/orders/bad'])
      assert.ok(get.p99 >= get.p50 && get.p99 > 0, `p50 ${get.p50}, p99 ${get.p99}`)
    })
  })
}
