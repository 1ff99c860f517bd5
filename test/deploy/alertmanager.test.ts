// deploy/alertmanager.yml: every alert of deploy/alerts.yml reaches the operator's receiver, whose webhook URL is
// a secret file compose writes from a required variable; Prometheus sends its alerts there. `amtool check-config`
// and `amtool config routes test` read the file as Alertmanager does; they skip when amtool is not on the PATH
// (dev/tools.ts).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { findTool } from '../../dev/tools.ts'
import { interpolate, parseYaml, sampleEnvironment } from './exposure.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(join(root, file), 'utf8')

type Webhook = { url?: string; url_file?: string; send_resolved?: boolean; max_alerts?: number }
type Receiver = { name: string; webhook_configs?: Webhook[] }
type Route = { receiver?: string; routes?: Route[]; matchers?: string[] }
const config = parse(read('deploy/alertmanager.yml')) as { route: Route; receivers: Receiver[] }
type Rule = { alert: string; labels: Record<string, string> }
const rules = (parse(read('deploy/alerts.yml')) as { groups: { rules: Rule[] }[] }).groups.flatMap(g => g.rules)

const composeText = read('deploy/docker-compose.yml')
type Service = { image: string; command: string[]; volumes: string[]; secrets: string[]; ports: string[] }
const compose = parseYaml(composeText) as unknown as {
  services: Record<string, Service>
  secrets: Record<string, { environment?: string; file?: string }>
}

/** url_file first appeared in Alertmanager 0.26; amtool is as old as its Debian package (0.25 in bookworm). */
const urlFileSince = [0, 26] as const

/** Receivers a route tree names. */
const receiversOf = (route: Route): string[] => [
  ...(route.receiver === undefined ? [] : [route.receiver]),
  ...(route.routes ?? []).flatMap(receiversOf),
]

const amtool = findTool('amtool')
let checked = ''
let dir = ''

function run(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(amtool.path ?? 'amtool', args, { encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}` }
}

describe('deploy/alertmanager.yml', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmanager-'))
    const version = /version (\d+)\.(\d+)/.exec(run(['--version']).output)
    const [major, minor] = [Number(version?.[1]), Number(version?.[2])]
    const knowsUrlFile = major > urlFileSince[0] || (major === urlFileSince[0] && minor >= urlFileSince[1])
    // An older amtool refuses url_file as an unknown field: it checks a copy in which the file's URL is a literal,
    // which is everything else of the file exactly as written.
    const text = read('deploy/alertmanager.yml')
    checked = join(dir, 'alertmanager.yml')
    writeFileSync(checked, knowsUrlFile ? text : text.replace(/url_file: \S+/g, 'url: "http://127.0.0.1:9/"'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('passes amtool check-config', { skip: amtool.missing }, () => {
    const r = run(['check-config', checked])
    assert.equal(r.status, 0, r.output)
    assert.match(r.output, /SUCCESS/)
  })

  it("routes every alert of alerts.yml, whatever its severity, to the operator's webhook", {
    skip: amtool.missing,
  }, () => {
    assert.ok(rules.length >= 8)
    for (const rule of rules) {
      const labels = Object.entries({ alertname: rule.alert, ...rule.labels }).map(([k, v]) => `${k}=${v}`)
      const r = run(['config', 'routes', 'test', `--config.file=${checked}`, '--verify.receivers=operator', ...labels])
      assert.equal(r.status, 0, `${rule.alert}: ${r.output}`)
    }
    // The check can fail: a receiver nobody configured is not where alerts go.
    const wrong = run([
      'config',
      'routes',
      'test',
      `--config.file=${checked}`,
      '--verify.receivers=nobody',
      'severity=critical',
    ])
    assert.notEqual(wrong.status, 0)
    const names = config.receivers.map(r => r.name)
    for (const name of receiversOf(config.route)) assert.ok(names.includes(name), `receiver ${name} is defined`)
  })

  it('takes the webhook URL from a compose secret of a required variable, never from a file in git', () => {
    const [receiver] = config.receivers
    const hooks = receiver?.webhook_configs ?? []
    assert.ok(hooks.length > 0)
    const service = compose.services['alertmanager']
    assert.ok(service)
    for (const hook of hooks) {
      assert.equal(hook.url, undefined, 'no URL written in the file')
      const secret = /^\/run\/secrets\/(.+)$/.exec(hook.url_file ?? '')?.[1]
      assert.ok(secret !== undefined, 'url_file is a compose secret')
      assert.ok(service.secrets.includes(secret), 'the alertmanager service is given that secret')
      const variable: string = compose.secrets[secret]?.environment ?? ''
      assert.equal(variable, 'ALERTMANAGER_WEBHOOK_URL')
      // Compose stops with "set ALERTMANAGER_WEBHOOK_URL" when the variable is missing.
      const env = sampleEnvironment(composeText)
      assert.ok(variable in env, 'the variable is required')
      const { [variable]: _, ...rest } = env
      assert.throws(() => interpolate(composeText, rest), /ALERTMANAGER_WEBHOOK_URL: set ALERTMANAGER_WEBHOOK_URL/)
      assert.equal(hook.send_resolved, true, 'the receiver hears when an alert resolves')
      assert.ok((hook.max_alerts ?? 0) > 0, 'a bounded notification')
    }
    assert.match(read('deploy/env.example'), /^ALERTMANAGER_WEBHOOK_URL=$/m)
    assert.ok(service.volumes.includes('./alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro'))
    assert.ok(service.command.includes('--config.file=/etc/alertmanager/alertmanager.yml'))
  })

  it('receives what Prometheus fires: prometheus.yml sends to the alertmanager service on its port', () => {
    const prometheus = parse(read('deploy/prometheus.yml')) as {
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] }
    }
    const targets = prometheus.alerting.alertmanagers.flatMap(a => a.static_configs.flatMap(c => c.targets))
    assert.deepEqual(targets, ['alertmanager:9093'])
    assert.deepEqual(compose.services['alertmanager']?.ports, ['127.0.0.1:9093:9093'])
  })
})
