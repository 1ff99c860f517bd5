// Redis is reached through one module: clients are made only in src/redis/client.ts, and Lua lives only in
// src/redis/lua/*.lua, loaded by src/redis/scripts.ts with its includes in place.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { luaScript } from '../../src/redis/scripts.ts'
import { sourceFiles } from '../helpers/sources.ts'

const root = fileURLToPath(new URL('../..', import.meta.url))

const offenders = (pattern: RegExp, allowed: string) =>
  sourceFiles(join(root, 'src'), /\.(ts|js)$/)
    .map(file => relative(root, file))
    .filter(file => file !== allowed && pattern.test(readFileSync(join(root, file), 'utf8')))

describe('the Redis module', () => {
  it('is the only place a Redis client is made', () => {
    assert.deepEqual(offenders(/new (Redis|Cluster)\(/, 'src/redis/client.ts'), [])
  })

  it('holds every Lua script, as .lua files', () => {
    // A line opening with a Lua declaration is never TypeScript: a script pasted into a template string.
    assert.deepEqual(offenders(/^\s*local\s+(function\s+)?\w+/m, ''), [])
  })

  it('loads a script with its includes in place, and every script file loads', () => {
    const remove = luaScript('dlq-remove')
    assert.ok(!remove.includes('--@include'))
    assert.ok(remove.includes('local function indexRemove'), 'dlq-common is included')
    assert.equal(luaScript('dlq-remove'), remove, 'read once')
    for (const file of readdirSync(join(root, 'src/redis/lua'))) {
      assert.ok(!luaScript(file.replace(/\.lua$/, '')).includes('--@include'), file)
    }
  })
})
