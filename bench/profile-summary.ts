// Summarises V8 CPU profiles (node --cpu-prof, or `npm run bench -- --cpu-prof`): self time per function and per
// package or source folder, so a missed target can name its hot spot.
//   node bench/profile-summary.ts <file.cpuprofile> [top N] [skip the first N ms, e.g. the start-up]
import { readFileSync } from 'node:fs'
import { area } from './source-area.ts'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}
interface Profile {
  nodes: Node[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

const [file, topArg, skipArg] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write('usage: node bench/profile-summary.ts <file.cpuprofile> [top]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const top = Number(topArg ?? 30)
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const self = new Map<number, number>()
const samples = profile.samples ?? []
const deltas = profile.timeDeltas ?? []
const skipUs = Number(skipArg ?? 0) * 1000
let elapsed = 0
for (let i = 0; i < samples.length; i++) {
  elapsed += deltas[i] ?? 0
  if (elapsed < skipUs) continue
  self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + (deltas[i] ?? 0))
}
const total = [...self.values()].reduce((a, b) => a + b, 0)

const functions = new Map<string, number>()
const areas = new Map<string, number>()
for (const [id, us] of self) {
  const node = byId.get(id)!
  const { functionName, url, lineNumber } = node.callFrame
  const where = area(url)
  const name = `${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`
  functions.set(name, (functions.get(name) ?? 0) + us)
  areas.set(where, (areas.get(where) ?? 0) + us)
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`
const print = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`)
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}\n`)
  }
}
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms sampled\n`)
print('self time by package / source file', areas)
print('self time by function', functions)
