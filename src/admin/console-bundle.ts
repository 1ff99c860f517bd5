// The console's browser code, src/admin/console/main.ts and the modules it imports, bundled by esbuild into one
// ES module, and its stylesheet, console.css with the rules it imports (uPlot's), into one stylesheet: the one way
// they are built, whether by the production build (scripts/build.ts, which inlines them in dist/main.js) or, when
// the consumer runs from the sources, on the first request for /console/console.js or /console/console.css.
// esbuild and uplot are devDependencies: imported only when called, never by the production bundle's code path.
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/** The console's page, script and stylesheet, as the consumer serves them. */
export interface ConsoleAssets {
  readonly html: string
  readonly js: string
  readonly css: string
}

const source = (name: string) => fileURLToPath(new URL(`./console/${name}`, import.meta.url))

/** Bundles the console's script: minified for production, with an inline source map for development. */
export async function bundleConsoleScript(options: { readonly minify: boolean }): Promise<string> {
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: [source('main.ts')],
    tsconfig: source('tsconfig.json'),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // ASCII output: the production build inlines the script in dist/main.js, which stays ASCII.
    charset: 'ascii',
    minify: options.minify,
    sourcemap: options.minify ? false : 'inline',
    legalComments: 'none',
    logLevel: 'silent',
  })
  const [output] = result.outputFiles
  if (output === undefined) throw new Error('esbuild wrote no console script')
  return output.text
}

/** Bundles the stylesheet: console.css with the rules its @import names (from node_modules), in one file. */
export async function bundleConsoleStyles(options: { readonly minify: boolean }): Promise<string> {
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: [source('console.css')],
    bundle: true,
    write: false,
    // An output path is what esbuild names the file by; nothing is written (write: false).
    outfile: 'console.css',
    charset: 'ascii',
    minify: options.minify,
    legalComments: 'none',
    logLevel: 'silent',
  })
  const output = result.outputFiles.find(file => file.path.endsWith('.css'))
  if (output === undefined) throw new Error('esbuild wrote no console stylesheet')
  return output.text
}

/** The page, the bundled script and the bundled stylesheet. */
export async function bundleConsole(options: { readonly minify: boolean }): Promise<ConsoleAssets> {
  const [html, js, css] = await Promise.all([
    readFile(source('index.html'), 'utf8'),
    bundleConsoleScript(options),
    bundleConsoleStyles(options),
  ])
  return { html, js, css }
}
