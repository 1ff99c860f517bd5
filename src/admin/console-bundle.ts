// The console's browser code, src/admin/console/main.ts and the modules it imports, bundled by esbuild into one
// ES module: the one way it is built, whether by the production build (scripts/build.ts, which inlines it in
// dist/main.js) or, when the consumer runs from the sources, on the first request for /console/console.js.
// esbuild is a devDependency: it is imported only when called, never by the production bundle's code path.
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

/** The page, the bundled script and the stylesheet. */
export async function bundleConsole(options: { readonly minify: boolean }): Promise<ConsoleAssets> {
  const [html, js, css] = await Promise.all([
    readFile(source('index.html'), 'utf8'),
    bundleConsoleScript(options),
    readFile(source('console.css'), 'utf8'),
  ])
  return { html, js, css }
}
