// `npm run build`: the pipeline as the container ships it, src/cli/main.ts bundled by esbuild into dist/main.js
// (plus one chunk per lazily imported store engine). Development, `npm run pipeline` and the tests run the .ts
// sources; production runs compiled JavaScript because a process that strips types at load and resolves several
// hundred modules peaks about 50 MB higher while draining than one that loads a bundle (docs/performance.md,
// "Consumer memory").
//
// What the bundle must keep from the sources:
// - Files read relative to a module (`new URL('../package.json', import.meta.url)`, `__dirname`) are found where
//   they are in the repository: each module's `import.meta.url`, `__filename` and `__dirname` are rewritten to
//   its own source path, relative to the bundle's location. So dist/ needs package.json and the Lua scripts
//   (src/redis/lua/) beside it, at the repository's layout (deploy/Dockerfile copies exactly those).
// - The console (src/admin/console/) is built here too, its TypeScript bundled for the browser by
//   src/admin/console-bundle.ts, and carried inside dist/main.js with its page and stylesheet
//   (`__pipelineConsole`): the image holds no console sources.
// - CommonJS dependencies call `require('node:fs')`: the bundle defines `require` with createRequire.
// - @platformatic/kafka's WebAssembly helpers load `native.wasm` from their own folder; their `bundled` entry,
//   the same module with the wasm inlined, is used instead, so the bundle needs no node_modules at run time.
import { cp, readFile, rm } from 'node:fs/promises'
import { dirname, extname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuildOptions, build, type Plugin } from 'esbuild'
import { bundleConsole, type ConsoleAssets } from '../src/admin/console-bundle.ts'

export const root = fileURLToPath(new URL('..', import.meta.url))

/** The files outside the bundle that the bundled code reads at run time, relative to the repository's root. */
export const runtimeFiles: readonly string[] = ['package.json', 'src/redis/lua']

/** Names the banner defines; each is unlikely enough to clash with a bundled module's own top-level names. */
const ownUrl = '__pipelineModuleUrl'
const ownPath = '__pipelineModulePath'

// `require` for the bundled CommonJS modules, and the two helpers the location rewrite calls. The banner is in
// every output file, each resolving paths from its own URL (all output files share one folder).
const banner = [
  "import { createRequire as __pipelineCreateRequire } from 'node:module'",
  "import { fileURLToPath as __pipelineFileURLToPath } from 'node:url'",
  'const require = __pipelineCreateRequire(import.meta.url)',
  `const ${ownUrl} = relative => new URL(relative, import.meta.url).href`,
  `const ${ownPath} = relative => __pipelineFileURLToPath(new URL(relative, import.meta.url))`,
].join('\n')

const locationTokens = /import\.meta\.url|\b__dirname\b|\b__filename\b/

/** A directive prologue or a hashbang at the top of a module: declarations go after it, or it stops being one. */
const prologue = /^(#![^\n]*\n)?(\s*(['"])use strict\3;?)?/

/**
 * A module's source with its own location, `fromOutput` (the source file relative to the output folder, such as
 * `../src/admin/console-routes.ts`), in place of the bundle's: `import.meta.url` is replaced, and `__filename`
 * and `__dirname` are declared for a CommonJS module that uses them (an ES module that declares its own keeps it,
 * computed from the replaced `import.meta.url`).
 */
export function relocate(source: string, fromOutput: string): string {
  const file = JSON.stringify(fromOutput)
  const folder = JSON.stringify(fromOutput.slice(0, Math.max(fromOutput.lastIndexOf('/'), 0)) || '.')
  const declared = (name: string) => new RegExp(`\\b(?:const|let|var|function|class)\\s+${name}\\b`).test(source)
  const used = (name: string) => new RegExp(`\\b${name}\\b`).test(source)
  const declarations: string[] = []
  if (used('__filename') && !declared('__filename')) declarations.push(`var __filename = ${ownPath}(${file});`)
  if (used('__dirname') && !declared('__dirname')) declarations.push(`var __dirname = ${ownPath}(${folder});`)
  const body = source.replaceAll('import.meta.url', `${ownUrl}(${file})`)
  if (declarations.length === 0) return body
  const head = prologue.exec(body)?.[0] ?? ''
  return `${head}\n${declarations.join(' ')}\n${body.slice(head.length)}`
}

const loaders = { '.ts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js' } as const

/** Rewrites the location of every module that asks for it; `relocated` collects their paths (for the report). */
function ownLocation(relocated: string[]): Plugin {
  return {
    name: 'own-location',
    setup(on) {
      on.onLoad({ filter: /\.(ts|js|mjs|cjs)$/ }, async args => {
        const source = await readFile(args.path, 'utf8')
        if (!locationTokens.test(source)) return undefined
        const fromRoot = relative(root, args.path).split(sep).join('/')
        relocated.push(fromRoot)
        const extension = extname(args.path) as keyof typeof loaders
        return {
          contents: relocate(source, `../${fromRoot}`),
          loader: loaders[extension],
          resolveDir: dirname(args.path),
        }
      })
    },
  }
}

/** The esbuild options of a bundle written to `outdir`, which must be a `dist` folder beside the runtime files. */
function bundleOptions(outdir: string, relocated: string[], console: ConsoleAssets): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Modules imported on demand (a store engine's driver) stay separate files, loaded only when used.
    splitting: true,
    outdir,
    absWorkingDir: root,
    banner: { js: banner },
    alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled' },
    // pg loads its optional native binding only when asked for it (`pg.native`); the pipeline never does. esbuild
    // is imported only to bundle the console when the sources run; the bundle carries the console built.
    external: ['pg-native', 'esbuild'],
    define: { __pipelineConsole: JSON.stringify(console) },
    plugins: [ownLocation(relocated)],
    // Without comments the output is ASCII (esbuild escapes other characters in strings, not in comments): Node
    // holds a module's source as a string, and one non-ASCII character makes the whole file a two-byte string,
    // twice its size in memory. Names are kept, so stack traces still name the functions.
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
  }
}

/**
 * Bundles `entryPoints` (output name → source file relative to the repository) into `<app>/dist/`. When `app` is
 * not the repository, the runtime files are copied there too, so `app` runs with nothing else: no sources, no
 * node_modules (what the container holds). Returns the modules whose location was rewritten.
 */
export async function buildApp(app: string, entryPoints: Record<string, string>): Promise<string[]> {
  const outdir = join(app, 'dist')
  await rm(outdir, { recursive: true, force: true })
  const relocated: string[] = []
  const console = await bundleConsole({ minify: true })
  await build({ ...bundleOptions(outdir, relocated, console), entryPoints })
  if (resolve(app) !== resolve(root)) {
    for (const file of runtimeFiles) await cp(join(root, file), join(app, file), { recursive: true })
  }
  return relocated.sort()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const relocated = await buildApp(root, { main: 'src/cli/main.ts' })
  process.stdout.write('dist/main.js built; modules that find files relative to themselves:\n')
  for (const path of relocated) process.stdout.write(`  ${path}\n`)
}
