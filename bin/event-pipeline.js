#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=16 --heap-growing-percent=100
// The installed `event-pipeline` command: the bundled pipeline (dist/main.js, built by `npm run build` before
// packing) started with the heap flags it is measured with (src/cli/node-flags.ts; V8 reads them only at start,
// hence the shebang). The bundle needs Node 24: on an older Node it says so instead of failing on a missing API.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  process.stderr.write(`event-pipeline needs Node.js 24 or later; this is ${process.version}\n`)
  process.exit(1)
}
await import('../dist/main.js')
