// The source files under a folder, for the tests that hold the whole tree to a rule (imports, adapters, errors,
// function length).
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Every file below `folder` whose name matches `names` (TypeScript sources by default), in directory order. */
export function sourceFiles(folder: string, names: RegExp = /\.ts$/): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap(entry => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return sourceFiles(path, names)
    return names.test(entry.name) ? [path] : []
  })
}
