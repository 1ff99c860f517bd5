// The Node flags every pipeline process starts with: `npm start`, `npm run pipeline`, the container's entrypoint,
// the tests' child processes and the benchmark's workers all use these, and test/cli/node-flags.test.ts fails when
// package.json or deploy/Dockerfile drift from them. V8 reads heap sizes once, when the process starts
// (v8.setFlagsFromString at run time changes nothing), so they cannot be applied from inside main.ts.
//
// Why: with Node's defaults V8 keeps a large young generation and lets the old generation grow to several times
// the live heap before a full collection, so a consumer draining a backlog peaks far above what it holds live; a
// small semi-space and a fixed heap growing factor keep its RSS near the live heap at the same throughput
// (the figures: docs/performance.md, "Memory"). Neither flag sets a hard limit: a process that needs more heap still gets it (no out-of-memory crash where
// --max-old-space-size would cause one).
export const nodeFlags: readonly string[] = ['--max-semi-space-size=16', '--heap-growing-percent=100']

/**
 * The environment every pipeline process starts with, set where the flags are (the npm scripts, the container, the
 * installed command, the tests and the benchmark). glibc's malloc gives threads that allocate their own arenas, up
 * to eight per core, and Node's threads (V8's collector and compiler helpers, libuv's pool) leave freed memory
 * spread over them, counted in the RSS until it is reused. Two arenas keep a draining consumer's peak lower at the
 * same CPU per event (the figures: docs/performance.md, "Memory: malloc arenas"). Like the heap flags it is read
 * once, at start; C libraries other than glibc (musl, macOS) ignore it.
 */
export const nodeEnv: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }
