// Alerts reach someone: a real Alertmanager (alertmanager on the PATH, or the test skips: dev/tools.ts) runs
// deploy/alertmanager.yml as written, but for the webhook's address, which points at a receiver this test listens
// with. It is given alerts as Prometheus sends them (the rules' labels and annotations of deploy/alerts.yml), and
// the receiver gets a notification for each, with its runbook_url, after the file's own group_wait; the
// inhibition rule keeps the lag alert of a stalled consumer quiet.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { findTool } from '../../dev/tools.ts'
import { eventually } from '../helpers/kafka.ts'
import { freePort } from '../helpers/pipeline.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(join(root, file), 'utf8')

type Rule = { alert: string; labels: Record<string, string>; annotations: Record<string, string> }
const rules = (parse(read('deploy/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap(g => g.rules)
const rule = (name: string) => {
  const r = rules.find(x => x.alert === name)
  assert.ok(r, name)
  return r
}
const groupWaitSeconds = Number(/^ {2}group_wait: (\d+)s$/m.exec(read('deploy/alertmanager.yml'))?.[1])

interface Notification {
  receiver: string
  status: string
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[]
}

/** An HTTP receiver keeping the notifications it is sent; bodies past 1 MiB are refused, at most 100 are kept. */
async function webhookReceiver(t: { after(fn: () => unknown): void }) {
  const received: Notification[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > 2 ** 20) request.destroy()
      else chunks.push(chunk)
    })
    request.on('end', () => {
      if (received.length < 100) received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification)
      response.end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => new Promise(resolve => server.close(resolve)))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/alerts`, received }
}

const alertmanager = findTool('alertmanager')

it("delivers each firing alert, with its runbook, to the operator's webhook", {
  timeout: 120_000,
  skip: alertmanager.missing,
}, async t => {
  assert.ok(groupWaitSeconds > 0 && groupWaitSeconds <= 60, 'group_wait in seconds, at most a minute')
  const binary = alertmanager.path
  assert.ok(binary !== undefined)
  const hook = await webhookReceiver(t)
  const dir = mkdtempSync(join(tmpdir(), 'alertmanager-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // The URL as a secret file, as compose mounts it; an Alertmanager older than url_file (0.26) gets it literally.
  writeFileSync(join(dir, 'webhook-url'), hook.url)
  const version = spawnVersion(binary)
  const text = read('deploy/alertmanager.yml').replace(
    /url_file: \S+/g,
    version >= 26 ? `url_file: ${join(dir, 'webhook-url')}` : `url: "${hook.url}"`,
  )
  writeFileSync(join(dir, 'alertmanager.yml'), text)
  const port = await freePort()
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  // The last 4 KiB it printed, to explain a failure to start.
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = `${errors}${chunk.toString('utf8')}`.slice(-4096)
  })
  const exited = once(child, 'exit')
  t.after(async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
  })
  const base = `http://127.0.0.1:${port}`
  await eventually(
    'Alertmanager answers /-/ready',
    async () =>
      (await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok === true,
    20_000,
    () => errors,
  )

  // What Prometheus posts for firing rules: the rule's labels, alertname and the series' labels; its annotations
  // rendered (ConsumerNotReady's description names the instance).
  const firing = (name: string, extra: Record<string, string> = {}) => {
    const r = rule(name)
    const annotations = Object.fromEntries(
      Object.entries(r.annotations).map(([k, v]) => [
        k,
        v.replaceAll('{{ $labels.instance }}', extra['instance'] ?? ''),
      ]),
    )
    return { labels: { alertname: name, ...r.labels, ...extra }, annotations, startsAt: new Date().toISOString() }
  }
  const sent = [
    firing('ConsumerNotReady', { instance: 'consumer-a:8081' }),
    firing('DeadLetterQueueGrowing'),
    firing('ConsumerStalled'),
    firing('ConsumerLagGrowing'),
  ]
  const posted = await fetch(`${base}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(sent),
    signal: AbortSignal.timeout(5000),
  })
  assert.equal(posted.status, 200, await posted.text())

  // Nothing before group_wait: the file's batching holds.
  await new Promise(resolve => setTimeout(resolve, (groupWaitSeconds - 5) * 1000))
  assert.equal(hook.received.length, 0)
  await eventually(
    'three notifications',
    () => hook.received.length >= 3,
    (groupWaitSeconds + 20) * 1000,
    () => JSON.stringify(hook.received),
  )
  // Past the wait, the inhibited alert is still not sent.
  await new Promise(resolve => setTimeout(resolve, 3000))
  const alerts = hook.received.flatMap(n => {
    assert.equal(n.receiver, 'operator')
    assert.equal(n.status, 'firing')
    return n.alerts
  })
  assert.deepEqual(alerts.map(a => a.labels['alertname']).sort(), [
    'ConsumerNotReady',
    'ConsumerStalled',
    'DeadLetterQueueGrowing',
  ])
  for (const a of alerts) {
    const name = a.labels['alertname']!
    assert.equal(a.annotations['runbook_url'], `docs/runbooks.md#${name.toLowerCase()}`)
    assert.ok((a.annotations['description'] ?? '').length > 0)
    assert.equal(a.labels['severity'], rule(name).labels['severity'])
  }
  const notReady = alerts.find(a => a.labels['alertname'] === 'ConsumerNotReady')
  assert.match(notReady?.annotations['description'] ?? '', /^Consumer consumer-a:8081 answers/)
})

/** The minor version of Alertmanager 0.x that `binary` is. */
function spawnVersion(binary: string): number {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  return Number(/version 0\.(\d+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 0)
}
