// Loaded into a bench worker by `npm run bench -- --alloc-prof` (as `node --import`): samples where the worker
// allocates, garbage included, and writes alloc.<pid>.heapprofile into .tmp/bench-profiles/ when the worker ends.
// Node's own --heap-prof keeps only the objects still alive when the profile is taken, which hides exactly the
// short-lived garbage that makes the young-generation collections a consumer pays for; V8's sampling heap
// profiler keeps the collected ones too when asked (includeObjectsCollectedByMajorGC/MinorGC). Summarise with
// `node bench/alloc-summary.ts <file.heapprofile> [top N] [events]`.
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('../.tmp/bench-profiles/', import.meta.url))
const session = new Session()
session.connect()
session.post('HeapProfiler.enable')
// One sample per 16 KiB allocated on average: a drain of 200,000 events gives some 60,000 samples.
session.post('HeapProfiler.startSampling', {
  samplingInterval: 16_384,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
})
let written = false
const write = () => {
  if (written) return
  written = true
  // A session on the process's own thread answers synchronously, so this works from an 'exit' listener.
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error === null && result !== undefined) {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, `alloc.${process.pid}.heapprofile`), JSON.stringify(result.profile))
    }
  })
}
process.on('exit', write)
