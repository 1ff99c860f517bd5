// CPU time of other processes during a measurement, read from /proc (Linux): the PostgreSQL backends that serve
// one database, the Kafka broker. Backends come and go with their connections, so a sampler reads the matching
// processes every 100 ms and keeps each one's last figure; a process's CPU is what it used since it was first
// seen (or since it started, when it started during the measurement).
import { readdirSync, readFileSync } from 'node:fs'

/** utime + stime of one process in ms (clock ticks of 10 ms, the Linux default), or undefined once it is gone. */
function cpuMsOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may hold spaces and parentheses: the fields that follow it start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return undefined
  }
}

function commandLine(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    return ''
  }
}

/** Selects processes by command line and pid. */
export type ProcessMatch = (commandLine: string, pid: number) => boolean

/** The CPU (ms) of every process `matches` selects. */
export function processCpu(matches: ProcessMatch): Map<number, number> {
  const out = new Map<number, number>()
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter(name => /^\d+$/.test(name))
  } catch {
    return out
  }
  for (const pid of pids) {
    if (!matches(commandLine(pid), Number(pid))) continue
    const ms = cpuMsOf(pid)
    if (ms !== undefined) out.set(Number(pid), ms)
  }
  return out
}

/**
 * The CPU used between the first and the last of a series of samples: per process, its last figure minus its
 * first, or minus nothing when it appeared after the first sample (it started during the measurement).
 */
export function cpuUsed(samples: readonly ReadonlyMap<number, number>[]): number {
  const first = samples[0] ?? new Map<number, number>()
  const last = new Map<number, number>()
  for (const sample of samples) for (const [pid, ms] of sample) last.set(pid, ms)
  let total = 0
  for (const [pid, ms] of last) total += ms - (first.get(pid) ?? 0)
  return total
}

/** Samples the processes `matches` selects every 100 ms until stopped; `stop` returns the CPU ms they used. */
export function sampleCpu(matches: ProcessMatch): { stop(): number } {
  const samples = [processCpu(matches)]
  const timer = setInterval(() => samples.push(processCpu(matches)), 100)
  return {
    stop() {
      clearInterval(timer)
      samples.push(processCpu(matches))
      return cpuUsed(samples)
    },
  }
}

/** The PostgreSQL backends connected to `database` (their process title names it). */
export const postgresBackendsOf =
  (database: string): ProcessMatch =>
  line =>
    line.startsWith('postgres: ') && line.includes(` ${database} `)

/** The Kafka broker (kafka.Kafka), whoever started it; other work on the broker is counted too. */
export const kafkaBroker: ProcessMatch = line => line.includes(' kafka.Kafka ')

/** One process. */
export const processId =
  (wanted: number): ProcessMatch =>
  (_, pid) =>
    pid === wanted
