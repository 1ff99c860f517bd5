// Which test files need no service (Kafka, PostgreSQL, Redis): those whose test-side imports (the file and the
// test/ and dev/ modules it reaches) import no service client and no helper that creates service resources.
// Decided from the imports, so a new test is classified without a list to keep up to date.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/** Packages and test-side modules that mean a service is needed. */
const servicePackages = new Set(['pg', 'ioredis', '@platformatic/kafka'])
const serviceModules = ['dev/services.ts', 'dev/resources.ts', 'dev/ensure.ts', 'test/helpers/services.ts']

const importPattern = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm

/** The modules `file` imports (static and dynamic), as written. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const m of text.matchAll(importPattern)) found.push((m[1] ?? m[2]) as string)
  // Dynamic imports of a package count too.
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string)
  return found
}

/** Whether `file` (repo-relative) reaches a service, following relative imports within test/ and dev/. */
export function needsServices(root: string, file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false
  seen.add(file)
  if (serviceModules.includes(file)) return true
  for (const spec of importsOf(join(root, file))) {
    if (servicePackages.has(spec)) return true
    if (!spec.startsWith('.')) continue
    const target = relative(root, resolve(dirname(join(root, file)), spec))
    if (!target.startsWith('test/') && !target.startsWith('dev/')) continue
    if (needsServices(root, target, seen)) return true
  }
  return false
}

function testFiles(root: string, dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(root, dir))) {
    const path = `${dir}/${name}`
    if (statSync(join(root, path)).isDirectory()) out.push(...testFiles(root, path))
    else if (name.endsWith('.test.ts')) out.push(path)
  }
  return out.sort()
}

/** Every test file under test/ that needs no service. */
export function unitTestFiles(root: string): string[] {
  return testFiles(root, 'test').filter(file => !needsServices(root, file))
}
