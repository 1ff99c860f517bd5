import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { it } from 'node:test'
import { configTable } from '../../src/config/index.ts'

it("the README's configuration table is the one the config module generates", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  assert.ok(
    readme.includes(configTable()),
    'README.md is out of date: paste the output of `npm run -s pipeline -- config-table` into it',
  )
})
