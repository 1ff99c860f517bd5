// Installing Debian's packages for the programs some tests run (dev/tools.ts finds them): only `npm test` calls
// this, up front, and only when this process may (root, on Debian, apt-get present); test files never install.
// The one place that installs system packages, for `npm test` on a fresh Debian machine and in CI alike.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { which } from './tools.ts'

const installTimeoutMs = 10 * 60_000

/** Whether this process may install Debian's packages: root, on Debian, with apt-get. */
export function mayInstallDebianPackages(): boolean {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && which('apt-get') !== undefined
}

let updated = false

function aptGet(args: string[], say: (line: string) => void): void {
  say(`apt-get ${args.join(' ')}`)
  const r = spawnSync(
    'apt-get',
    // Another apt-get running at the same moment holds the lock: wait for it rather than fail.
    ['-o', 'DPkg::Lock::Timeout=300', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: installTimeoutMs,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  )
  if (r.status !== 0) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n')
    throw new Error(`apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${output}`)
  }
}

/**
 * The path of `binary`, installing Debian's package `name` first when the binary is missing. Throws, saying
 * what to install, when it is missing and cannot be installed here (no apt-get, or not root).
 */
export function ensureDebianPackage(name: string, binary: string, say: (line: string) => void = () => {}): string {
  const found = which(binary)
  if (found !== undefined) return found
  const manual = `install Debian's package ${name} (apt-get install ${name}) to provide ${binary}`
  if (which('apt-get') === undefined) throw new Error(`${binary} is missing and apt-get is not available: ${manual}`)
  if (process.getuid?.() !== 0) throw new Error(`${binary} is missing and only root may install it: ${manual}`)
  say(`${binary} is missing; installing Debian's package ${name}`)
  if (!updated) {
    aptGet(['update', '-q'], say)
    updated = true
  }
  aptGet(['install', '-y', '-q', '--no-install-recommends', name], say)
  const installed = which(binary)
  if (installed === undefined) {
    throw new Error(`Debian's package ${name} was installed but ${binary} is not on the PATH`)
  }
  return installed
}
