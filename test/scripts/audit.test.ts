// scripts/audit.ts: fails on high or critical findings, and also when nothing could be checked, unless
// AUDIT_OFFLINE_OK=1 says a machine without the advisory service may pass unchecked.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { offlineAllowed, verdict } from '../../scripts/audit.ts'

const answered = (vulnerabilities: Record<string, number>) => ({
  status: 0,
  stdout: JSON.stringify({ metadata: { vulnerabilities } }),
  stderr: '',
})
// What npm 11 prints when the registry refuses the bulk advisory request.
const refused = {
  status: 1,
  stdout: JSON.stringify({
    message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    statusCode: 405,
    error: { summary: '', detail: '' },
  }),
  stderr: 'npm error audit endpoint returned an error\n',
}
const none = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 }

describe('npm run audit', () => {
  it('passes when the advisory service answered with no high or critical finding', () => {
    const v = verdict(answered({ ...none, low: 2, moderate: 1, total: 3 }), false)
    assert.equal(v.exitCode, 0)
    assert.match(v.lines.join('\n'), /production dependencies: .*"moderate":1/)
  })

  it('fails on a high or a critical finding, offline permission or not', () => {
    for (const offline of [false, true]) {
      assert.equal(verdict(answered({ ...none, high: 1, total: 1 }), offline).exitCode, 1)
      assert.equal(verdict(answered({ ...none, critical: 1, total: 1 }), offline).exitCode, 1)
    }
  })

  it('fails when the advisory service did not answer, saying why and how to allow it', () => {
    for (const run of [
      refused,
      { status: null, stdout: '', stderr: '', error: new Error('spawnSync npm ETIMEDOUT') },
      { status: 1, stdout: 'not json', stderr: 'npm error network request failed\n' },
    ]) {
      const v = verdict(run, false)
      assert.equal(v.exitCode, 1, run.stdout)
      const text = v.lines.join('\n')
      assert.match(text, /FAILED, production dependencies were not checked/)
      assert.match(text, /405 Method Not Allowed|ETIMEDOUT|network request failed/)
      assert.match(text, /AUDIT_OFFLINE_OK=1/)
    }
  })

  it('passes unchecked only with AUDIT_OFFLINE_OK, and says so', () => {
    const v = verdict(refused, true)
    assert.equal(v.exitCode, 0)
    assert.match(v.lines.join('\n'), /NOT CHECKED, allowed by AUDIT_OFFLINE_OK: .*405/)
    for (const value of ['1', 'true', 'TRUE']) assert.ok(offlineAllowed(value), value)
    for (const value of [undefined, '', '0', 'false', 'no', ' 1']) assert.ok(!offlineAllowed(value), String(value))
  })

  it('exits non-zero from the command line when npm cannot reach the advisory service', t => {
    // A stand-in `npm` first on PATH answers as the refusing registry does; nothing leaves the machine.
    const bin = mkdtempSync(join(tmpdir(), 'ep-audit-'))
    t.after(() => rmSync(bin, { recursive: true, force: true }))
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\nprintf '%s' '${refused.stdout}'\nexit 1\n`)
    chmodSync(join(bin, 'npm'), 0o755)
    const script = fileURLToPath(new URL('../../scripts/audit.ts', import.meta.url))
    const run = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [script], {
        encoding: 'utf8',
        env: { ...process.env, AUDIT_OFFLINE_OK: '', ...extra, PATH: `${bin}${delimiter}${process.env['PATH']}` },
      })
    const strict = run({})
    assert.equal(strict.status, 1, strict.stdout + strict.stderr)
    assert.match(strict.stdout, /FAILED/)
    const allowed = run({ AUDIT_OFFLINE_OK: '1' })
    assert.equal(allowed.status, 0, allowed.stdout + allowed.stderr)
    assert.match(allowed.stdout, /NOT CHECKED/)
  })
})
