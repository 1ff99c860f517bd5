// The pipeline's image and every other image deploy/ runs: each names one release (pins.ts), and the image's
// HEALTHCHECK, run as Docker runs it (node -e in the container's environment), says healthy for a real role
// listening on its port and unhealthy once nothing answers there. Docker itself is not needed: the check is a
// Node script, run here by the Node release the image is built from.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { freePort, startPipeline } from '../helpers/pipeline.ts'
import { kafkaTopic, redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { imagesOf, readTree } from './kubernetes.ts'
import { pinProblem } from './pins.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(join(root, file), 'utf8')
const dockerfile = read('deploy/Dockerfile')

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : [path]
  })
}

/** Every image deploy/ names: FROM lines, compose's `image:` lines, the Kubernetes manifests' containers. */
function deployImages(): string[] {
  const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1]!)
  const compose = [...read('deploy/docker-compose.yml').matchAll(/^\s+image: (\S+)$/gm)].map(m => m[1]!)
  const kube = imagesOf(readTree(join(root, 'deploy/kubernetes/overlays/example')).manifests.map(x => x.manifest))
  return [...from, ...compose, ...kube]
}

/** The HEALTHCHECK's command (exec form), its continuation lines joined. */
function healthcheck(): string[] {
  const m = /^HEALTHCHECK (?:--\S+ )*\\\n\s+CMD (\[.+\])$/m.exec(dockerfile)
  assert.ok(m, 'HEALTHCHECK … CMD [exec form]')
  return JSON.parse(m[1]!) as string[]
}

function runCheck(env: Record<string, string>): number | null {
  const [binary, ...args] = healthcheck()
  assert.equal(binary, 'node', 'the image has Node, not curl')
  const r = spawnSync(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 })
  return r.status
}

describe('images under deploy/', () => {
  it('each names one release: no latest, no moving major or minor tag', () => {
    const images = deployImages()
    assert.ok(images.length >= 10, images.join(', '))
    assert.deepEqual(images.map(pinProblem).filter(Boolean), [])
    // And no file under deploy/ mentions a latest tag at all (a comment telling someone to use one, say).
    for (const file of filesUnder(join(root, 'deploy'))) {
      if (/\.(json|png)$/.test(file)) continue
      assert.doesNotMatch(readFileSync(file, 'utf8'), /:[\w.-]*latest\b/i, relative(root, file))
    }
  })

  it('tells a pinned tag from a moving one', () => {
    for (const good of [
      'apache/kafka:4.1.1',
      'prom/alertmanager:v0.28.1',
      'node:24.21.0-slim',
      'mcr.microsoft.com/mssql/server:2022-CU20-ubuntu-22.04',
      'localhost:5000/event-pipeline:0.2.0',
      'redis@sha256:0123',
    ])
      assert.equal(pinProblem(good), undefined, good)
    for (const bad of [
      'redis',
      'node:24-slim',
      'redis:7.4-alpine',
      'mcr.microsoft.com/mssql/server:2022-latest',
      'prom/prometheus:latest',
      'localhost:5000/event-pipeline',
    ])
      assert.ok(pinProblem(bad), bad)
  })
})

describe("the image's HEALTHCHECK", () => {
  it('is healthy while a role answers /health on its port, found by SERVICE_PORT or the role ports', async t => {
    const topic = await kafkaTopic(t, 1)
    const { prefix } = redisPrefix(t)
    const pipeline = await startPipeline(t, 'api', {
      KAFKA_TOPIC: topic,
      DLQ_KEY: `${prefix}dlq`,
      DATABASE_URL: `sqlite:${sqliteFile(t)}`,
      LOG_LEVEL: 'WARN',
    })
    const port = new URL(pipeline.urls.api).port
    const [idle1, idle2] = [String(await freePort()), String(await freePort())]
    // As `docker run … api` with API_PORT set, or a role alone on SERVICE_PORT, or `pipeline all` on the defaults
    // (the other two ports closed here).
    assert.equal(runCheck({ API_PORT: port, PRODUCER_PORT: idle1, CONSUMER_PORT: idle2 }), 0)
    assert.equal(runCheck({ SERVICE_PORT: port }), 0)
    // Nothing on the ports the check asks: unhealthy, and fast (each request is bounded).
    assert.equal(runCheck({ SERVICE_PORT: idle1 }), 1)
    assert.equal(runCheck({ API_PORT: idle1, PRODUCER_PORT: idle2, CONSUMER_PORT: idle1 }), 1)
    const { code } = await pipeline.stop()
    assert.equal(code, 0)
    assert.equal(runCheck({ SERVICE_PORT: port }), 1, 'a stopped role is unhealthy')
  })
})
