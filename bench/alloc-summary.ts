// Summarises the allocation profiles `npm run bench -- --alloc-prof` writes (bench/alloc-sampler.ts): bytes
// allocated per function and per package or source folder, garbage included, and per event when the number of
// events the worker handled is given. A native frame (JSON.parse, a Map, an array's growth) is charged to the
// JavaScript function that called it, since that is the code to change.
//   node bench/alloc-summary.ts <file.heapprofile> [top N] [events]
import { readFileSync } from 'node:fs'
import { area } from './source-area.ts'

export interface AllocationNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly selfSize: number
  readonly children: readonly AllocationNode[]
}

export interface AllocationSummary {
  readonly total: number
  /** Bytes by function, as "name  where:line"; a native frame's bytes go to its nearest JavaScript caller. */
  readonly functions: ReadonlyMap<string, number>
  /** Bytes by package or source file. */
  readonly areas: ReadonlyMap<string, number>
}

export function summariseAllocations(head: AllocationNode): AllocationSummary {
  const functions = new Map<string, number>()
  const areas = new Map<string, number>()
  let total = 0
  // Iterative: a deep async stack must not overflow this script's own.
  const stack: { node: AllocationNode; caller: string | undefined; callerArea: string }[] = [
    { node: head, caller: undefined, callerArea: '(native/V8)' },
  ]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const { node, caller, callerArea } = next
    const { functionName, url, lineNumber } = node.callFrame
    const own = url === '' ? undefined : `${functionName || '(anonymous)'}  ${area(url)}:${lineNumber + 1}`
    const name = own ?? caller ?? `${functionName || '(root)'}  (native/V8)`
    const where = own === undefined ? callerArea : area(url)
    if (node.selfSize > 0) {
      total += node.selfSize
      functions.set(name, (functions.get(name) ?? 0) + node.selfSize)
      areas.set(where, (areas.get(where) ?? 0) + node.selfSize)
    }
    for (const child of node.children) stack.push({ node: child, caller: own ?? caller, callerArea: where })
  }
  return { total, functions, areas }
}

function main(argv: readonly string[]): void {
  const [file, topArg, eventsArg] = argv
  if (file === undefined) {
    process.stderr.write('usage: node bench/alloc-summary.ts <file.heapprofile> [top N] [events]\n')
    process.exit(2)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: AllocationNode }
  const top = Number(topArg ?? 30)
  const events = eventsArg === undefined ? undefined : Number(eventsArg)
  const { total, functions, areas } = summariseAllocations(profile.head)
  const amount = (bytes: number) =>
    events === undefined
      ? `${(bytes / 1e6).toFixed(1).padStart(8)} MB`
      : `${(bytes / events).toFixed(0).padStart(6)} B/event`
  const print = (title: string, map: ReadonlyMap<string, number>) => {
    process.stdout.write(`\n${title}\n`)
    for (const [name, bytes] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((bytes / total) * 100).toFixed(1).padStart(5)}%  ${amount(bytes)}  ${name}\n`)
    }
  }
  process.stdout.write(`${file}: ${amount(total)} allocated (sampled, garbage included)\n`)
  print('allocated by package / source file', areas)
  print('allocated by function (native frames charged to their caller)', functions)
}

if (import.meta.main) {
  // Piped into head, the pipe may close first: that ends the summary, it is not an error.
  process.stdout.on('error', error => {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0)
    throw error
  })
  main(process.argv.slice(2))
}
