// dev/compose.yml through whichever compose this machine has: `docker compose`, `podman compose`, or the older
// standalone docker-compose / podman-compose. Used by `npm run dev:services` and by `npm test` for the services
// that do not answer.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const composeFile = fileURLToPath(new URL('./compose.yml', import.meta.url))

/** The services of dev/compose.yml. */
export type ComposeService = 'kafka' | 'postgres' | 'redis'
export const composeServices: readonly ComposeService[] = ['kafka', 'postgres', 'redis']

/**
 * The compose commands tried, in order: a machine may have several; the first that answers `version` and reads
 * the Compose Specification (readsComposeSpec) is used.
 */
export const composeCandidates: readonly (readonly string[])[] = [
  ['docker', 'compose'],
  ['podman', 'compose'],
  ['docker-compose'],
  ['podman-compose'],
]

/** The first candidate that `works` (its `version` exits 0 on this machine), or undefined. */
export function pickCompose(works: (words: readonly string[]) => boolean): readonly string[] | undefined {
  return composeCandidates.find(works)
}

/**
 * Whether `command`, which answered `version --short` with `version`, reads the Compose Specification the files
 * use (a top-level `name`, secrets from the environment). The standalone docker-compose 1.x (Python, end of life)
 * does not: it refuses both files, so it is passed over rather than failing `npm run dev:services`.
 */
export function readsComposeSpec(command: readonly string[], version: string): boolean {
  if (command.join(' ') !== 'docker-compose') return true
  const major = Number(/^v?(\d+)\./.exec(version.trim())?.[1])
  return major >= 2
}

let found: readonly string[] | null | undefined

/** This machine's compose command (its words), or undefined when it has none. Asked once per process. */
export function composeCommand(): readonly string[] | undefined {
  if (found === undefined) {
    found =
      pickCompose(words => {
        const [command, ...args] = words
        const r = spawnSync(command as string, [...args, 'version', '--short'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 20_000,
        })
        return r.status === 0 && readsComposeSpec(words, r.stdout)
      }) ?? null
  }
  return found ?? undefined
}

/** The command line that runs `args` against dev/compose.yml with `command`. */
export function composeArgs(command: readonly string[], args: readonly string[]): [string, string[]] {
  const [program, ...rest] = command
  return [program as string, [...rest, '-f', composeFile, ...args]]
}

/** Runs compose with `args` (its output shown), within `timeoutMs` (pulling images takes a while the first time). */
export function runCompose(command: readonly string[], args: readonly string[], timeoutMs = 10 * 60_000): void {
  const [program, all] = composeArgs(command, args)
  const r = spawnSync(program, all, { stdio: ['ignore', 'inherit', 'inherit'], timeout: timeoutMs })
  if (r.status !== 0) {
    throw new Error(`${program} ${all.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`)
  }
}
