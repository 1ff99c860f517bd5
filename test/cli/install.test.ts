// The package as a user installs it: `npm pack` (which builds dist/ first), the tarball installed into an empty
// folder and globally under a private prefix, then the `event-pipeline` command it brings: its version, and
// `event-pipeline all` serving a produce and a read against the test services.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { eventually } from '../helpers/kafka.ts'
import { startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, sqliteFile, uniqueName } from '../helpers/resources.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
// Node 24 first on the PATH, as `npm run` puts it: the command's shebang runs the `node` it finds there.
const path = `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`
const npm = (args: readonly string[], cwd: string) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd,
    env: { ...process.env, PATH: path },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })

describe('the installable package', () => {
  it('packs, installs locally and globally, and serves as `event-pipeline all`', { timeout: 300_000 }, async t => {
    const work = mkdtempSync(join(tmpdir(), 'pipeline-install-'))
    t.after(() => rmSync(work, { recursive: true, force: true }))
    npm(['pack', '--pack-destination', work], root)
    const tarball = readdirSync(work).find(f => f.endsWith('.tgz'))
    assert.equal(tarball, `event-pipeline-${version}.tgz`)

    // What the tarball holds: the command, the bundle and what it reads beside it; no sources, tests or tools.
    const listing = execFileSync('tar', ['-tzf', join(work, tarball)], { encoding: 'utf8' })
      .trim()
      .split('\n')
    const tops = new Set(listing.map(f => f.split('/').slice(1, 2).join('/')))
    assert.deepEqual([...tops].sort(), ['CHANGELOG.md', 'LICENSE', 'README.md', 'bin', 'dist', 'package.json', 'src'])
    assert.ok(listing.every(f => !f.startsWith('package/src/') || f.startsWith('package/src/redis/lua/')))

    // Installed into an empty project, as `npx event-pipeline` finds it.
    const project = join(work, 'project')
    execFileSync('mkdir', ['-p', project])
    writeFileSync(join(project, 'package.json'), '{"private":true}\n')
    npm(['install', join(work, tarball)], project)
    const local = join(project, 'node_modules', '.bin', 'event-pipeline')
    const shown = spawnSync(local, ['--version'], { env: { PATH: path }, encoding: 'utf8' })
    assert.equal(shown.status, 0, shown.stderr)
    assert.equal(shown.stdout, `event-pipeline ${version}\n`)

    // Installed globally, under a prefix of the test's own.
    const prefix = join(work, 'global')
    npm(['install', '--global', '--prefix', prefix, join(work, tarball)], work)
    const global = spawnSync(join(prefix, 'bin', 'event-pipeline'), ['--version'], {
      env: { PATH: path },
      encoding: 'utf8',
    })
    assert.equal(global.stdout, `event-pipeline ${version}\n`, global.stderr)

    // `event-pipeline all` from the installed package: a produce, its read, and /health with the version.
    const pipeline = await startPipeline(
      t,
      'all',
      {
        KAFKA_TOPIC: await kafkaTopic(t),
        KAFKA_GROUP_ID: uniqueName('group'),
        DLQ_KEY: uniqueName('dlq'),
        DATABASE_URL: `sqlite:${sqliteFile(t)}`,
        LOG_LEVEL: 'warn',
      },
      { entry: join(project, 'node_modules', 'event-pipeline', 'bin', 'event-pipeline.js'), cwd: project },
    )
    await eventually(
      'the producer and the read API ready',
      async () => {
        const ready = await Promise.all(
          [pipeline.urls.producer, pipeline.urls.api].map(u =>
            fetch(`${u}/ready`).then(
              r => r.status,
              () => 0,
            ),
          ),
        )
        return ready.every(status => status === 200)
      },
      60_000,
    )
    const userId = uniqueName('user')
    const produced = await fetch(`${pipeline.urls.producer}/produce`, {
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
    await eventually(
      'the user is readable',
      async () => (await fetch(`${pipeline.urls.api}/users/${userId}`)).ok,
      30_000,
    )
    const health = (await (await fetch(`${pipeline.urls.api}/health`)).json()) as { version: string }
    assert.equal(health.version, version)
    assert.equal((await pipeline.stop()).code, 0, pipeline.stderr.join(''))
  })
})
