// scripts/build.ts: how the production bundle gives each module its own source location (the built app itself runs
// in build-app.test.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { relocate } from '../../scripts/build.ts'

describe('relocate', () => {
  const url = '__pipelineModuleUrl("../src/admin/console-routes.ts")'

  it('replaces import.meta.url with the module’s own URL', () => {
    const source = "const a = new URL('./console/x', import.meta.url)\n"
    assert.equal(relocate(source, '../src/admin/console-routes.ts'), `const a = new URL('./console/x', ${url})\n`)
  })

  it('declares __dirname and __filename for a CommonJS module, after its "use strict"', () => {
    const source = "'use strict'\nconst p = require('node:path').join(__dirname, '..', 'package.json')\n"
    const out = relocate(source, '../node_modules/x/lib/util/read.js')
    assert.ok(out.startsWith('\'use strict\'\nvar __dirname = __pipelineModulePath("../node_modules/x/lib/util");\n'))
    assert.ok(out.endsWith(source.slice("'use strict'".length)))
    assert.ok(!out.includes('__filename'))
  })

  it('keeps the __dirname an ES module declares itself, computed from its own import.meta.url', () => {
    const source = 'const __dirname = path.dirname(fileURLToPath(import.meta.url))\nuse(__dirname)\n'
    const out = relocate(source, '../node_modules/open/index.js')
    assert.equal(
      out,
      'const __dirname = path.dirname(fileURLToPath(__pipelineModuleUrl("../node_modules/open/index.js")))\nuse(__dirname)\n',
    )
  })

  it('leaves a hashbang first and a module without location tokens unchanged', () => {
    assert.equal(relocate('export const x = 1\n', '../a.js'), 'export const x = 1\n')
    const out = relocate('#!/usr/bin/env node\nconsole.log(__filename)\n', '../bin/a.js')
    assert.ok(out.startsWith('#!/usr/bin/env node\n\nvar __filename = __pipelineModulePath("../bin/a.js");'))
  })
})
