// `npm audit --omit=dev`, failing on high or critical findings in production dependencies. When the registry's
// advisory endpoint does not answer (some mirrors and closed networks answer 405 or time out) nothing was
// checked, so that fails too: a check that passes without checking would let CI ship a known vulnerability.
// AUDIT_OFFLINE_OK=1 lets a machine that cannot reach the advisory service pass, saying plainly that it did not
// check.
import { spawnSync } from 'node:child_process'

/** What `npm audit --json` left behind: its exit status, output, and the error when it could not run at all. */
export interface AuditRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  readonly error?: Error | undefined
}

export interface Verdict {
  readonly exitCode: 0 | 1
  readonly lines: readonly string[]
}

interface Report {
  metadata?: { vulnerabilities?: Record<string, number> }
  error?: { summary?: string }
  message?: string
}

/** True only for an explicit opt-in: `1` or `true`. */
export function offlineAllowed(value: string | undefined): boolean {
  return value === '1' || value?.toLowerCase() === 'true'
}

export function verdict(run: AuditRun, offlineOk: boolean): Verdict {
  let report: Report | undefined
  try {
    report = JSON.parse(run.stdout) as Report
  } catch {
    report = undefined
  }
  const counts = report?.metadata?.vulnerabilities
  if (counts === undefined) {
    const why =
      run.error?.message ||
      report?.message ||
      report?.error?.summary ||
      run.stderr.trim().split('\n').at(-1) ||
      'no answer'
    const unchecked = `the npm advisory endpoint did not answer (${why.trim()})`
    if (offlineOk) {
      return {
        exitCode: 0,
        lines: [`audit: NOT CHECKED, allowed by AUDIT_OFFLINE_OK: ${unchecked}`],
      }
    }
    return {
      exitCode: 1,
      lines: [
        `audit: FAILED, production dependencies were not checked: ${unchecked}`,
        'audit: on a machine that cannot reach the advisory service, set AUDIT_OFFLINE_OK=1 to pass unchecked',
      ],
    }
  }
  const serious = (counts['high'] ?? 0) + (counts['critical'] ?? 0)
  const summary = `audit: production dependencies: ${JSON.stringify(counts)}`
  if (serious > 0) {
    return {
      exitCode: 1,
      lines: [
        summary,
        'audit: high or critical vulnerabilities in production dependencies; run `npm audit --omit=dev`',
      ],
    }
  }
  return { exitCode: 0, lines: [summary] }
}

if (import.meta.main) {
  const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 })
  const result = verdict(
    { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error },
    offlineAllowed(process.env['AUDIT_OFFLINE_OK']),
  )
  for (const line of result.lines) console.log(line)
  process.exit(result.exitCode)
}
