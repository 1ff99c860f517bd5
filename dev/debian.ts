// Debian packages the tests need from this machine (Chromium for the console's browser test), installed with
// apt-get when their binary is missing, so a fresh clone's `npm test` needs no manual step. Never imported by src/.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/**
 * Makes `binary` exist, installing Debian's `pkg` when it does not. Throws with apt-get's own output when the
 * install fails (not root, no network to Debian's mirrors), so the test says why instead of skipping silently.
 */
export function ensureDebianPackage(pkg: string, binary: string, say: (line: string) => void = () => {}): void {
  if (existsSync(binary)) return
  say(`${binary} is missing; installing Debian's ${pkg} (apt-get)`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const run = (args: string[]) => spawnSync('apt-get', args, { env, encoding: 'utf8', timeout: 600_000 })
  const update = run(['update', '-qq'])
  const install = update.status === 0 ? run(['install', '-y', '-qq', pkg]) : update
  if (install.status !== 0 || !existsSync(binary)) {
    const output = `${install.stdout ?? ''}${install.stderr ?? ''}${install.error?.message ?? ''}`.trim().slice(-2000)
    throw new Error(`could not install Debian's ${pkg} for ${binary}: ${output || `apt-get exited ${install.status}`}`)
  }
}
