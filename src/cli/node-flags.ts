// The Node flags every pipeline process starts with: `npm start`, `npm run pipeline`, the container's entrypoint,
// the tests' child processes and the benchmark's workers all use these, and test/cli/node-flags.test.ts fails when
// package.json or deploy/Dockerfile drift from them. V8 reads heap sizes once, when the process starts
// (v8.setFlagsFromString at run time changes nothing), so they cannot be applied from inside main.ts.
//
// Why (docs/performance.md, "Memory"): with Node 24's defaults V8 keeps a 64 MB young generation and lets the
// old generation grow to about four times the live heap before a full collection, so the consumer peaks at
// 440–540 MB RSS while draining a backlog with 55–65 MB of live objects. A 16 MB semi-space and a fixed heap
// growing factor of 2 hold it at about 245 MB (200 MB compiled, as the image runs) for the same throughput.
// Neither flag sets a hard limit: a process that needs more heap still gets it (no out-of-memory crash where
// --max-old-space-size would cause one).
export const nodeFlags: readonly string[] = ['--max-semi-space-size=16', '--heap-growing-percent=100']
