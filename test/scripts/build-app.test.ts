// The production bundle (scripts/build.ts) run on its own, laid out as the container holds it: dist/ (the console
// inside) and package.json, no sources, no node_modules.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { buildApp } from '../../scripts/build.ts'
import { eventually } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, sqliteFile, uniqueName } from '../helpers/resources.ts'

describe('the built app', () => {
  it('runs `pipeline all` alone: produce, read back, console page, OpenAPI document', { timeout: 180_000 }, async t => {
    const app = mkdtempSync(join(tmpdir(), 'pipeline-app-'))
    t.after(() => rmSync(app, { recursive: true, force: true }))
    await buildApp(app, { main: 'src/cli/main.ts' })
    // Nothing of the repository is reachable from the app: no sources beside it, no node_modules above it.
    assert.ok(existsSync(join(app, 'dist', 'main.js')))
    assert.ok(!existsSync(join(app, 'node_modules')) && !existsSync(join(app, 'src', 'cli')))
    // ASCII only: Node holds a module's source as a string, two bytes a character once one is not ASCII.
    for (const file of readdirSync(join(app, 'dist'))) {
      const bytes = readFileSync(join(app, 'dist', file))
      assert.equal(
        bytes.findIndex(byte => byte > 0x7f),
        -1,
        file,
      )
    }

    const topic = await kafkaTopic(t)
    const pipeline = await startPipeline(
      t,
      'all',
      {
        KAFKA_TOPIC: topic,
        KAFKA_GROUP_ID: uniqueName('group'),
        DLQ_KEY: uniqueName('dlq'),
        DATABASE_URL: `sqlite:${sqliteFile(t)}`,
        LOG_LEVEL: 'warn',
        // The consumer serves the console (and the admin API) only when an admin token is set.
        ADMIN_TOKEN: `token-${crypto.randomUUID()}`,
      },
      { entry: join(app, 'dist', 'main.js'), cwd: app },
    )
    const url = (role: keyof typeof pipeline.urls, path: string) => `${pipeline.urls[role]}${path}`
    await eventually(
      'all three roles ready',
      async () => {
        const answers = await Promise.all(
          (['producer', 'consumer', 'api'] as const).map(role =>
            fetch(url(role, '/ready')).then(
              r => r.status,
              () => 0,
            ),
          ),
        )
        return answers.every(status => status === 200)
      },
      60_000,
    )

    const userId = uniqueName('user')
    const produced = await fetch(url('producer', '/produce'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        eventId: crypto.randomUUID(),
        type: 'UserCreated',
        timestamp: '2025-01-11T12:00:00Z',
        data: { userId, name: 'Alice Example', email: 'alice@example.com', createdAt: '2025-01-11T12:00:00Z' },
      }),
    })
    assert.equal(produced.status, 200, await produced.clone().text())
    await eventually('the user is readable', async () => (await fetch(url('api', `/users/${userId}`))).ok, 30_000)
    const view = (await (await fetch(url('api', `/users/${userId}`))).json()) as { user: { name: string } }
    assert.equal(view.user.name, 'Alice Example')

    // The console's page and bundled script, carried inside dist/main.js (no console sources beside it).
    const page = await fetch(url('consumer', '/'), { headers: { accept: 'text/html' } })
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<html/i)
    const script = await fetch(url('consumer', '/console/console.js'))
    assert.equal(script.status, 200)
    assert.match(await script.text(), /sign-in-form/)
    // The stylesheet, bundled with uPlot's rules for the charts.
    const styles = await fetch(url('consumer', '/console/console.css'))
    assert.equal(styles.status, 200)
    assert.match(await styles.text(), /\.uplot\{/)
    // Of the sources, only the Lua scripts Redis runs sit beside the bundle.
    assert.deepEqual(readdirSync(join(app, 'src')), ['redis'])
    assert.deepEqual(readdirSync(join(app, 'src', 'redis')), ['lua'])
    // The OpenAPI document carries the version of the package.json beside dist/.
    const doc = (await (await fetch(url('api', '/openapi.json'))).json()) as { info: { version: string } }
    assert.match(doc.info.version, /^\d+\.\d+\.\d+/)

    const { code } = await pipeline.stop()
    assert.equal(code, 0, pipeline.stderr.join(''))
  })
})
