// src/kafka/ is the one adapter for Kafka: every client (producer, consumer, admin) is built there, and the rest
// of the product asks it. A client built anywhere else is a second place that partitions, sends or reads offsets.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { sourceFiles } from '../helpers/sources.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const src = join(root, 'src')
const adapter = join(src, 'kafka')

const clients = ['Producer', 'Consumer', 'Admin', 'Base']

/** What in a file builds a Kafka client: a `new` of a client class, or a value import of one from the package. */
function kafkaClientUses(text: string): string[] {
  const found: string[] = []
  for (const m of text.matchAll(/\bnew\s+(\w+)\s*[<(]/g)) if (clients.includes(m[1] as string)) found.push(m[0])
  for (const m of text.matchAll(/\bimport\s*\{([^}]*)\}\s*from\s*['"]@platformatic\/kafka['"]/g)) {
    for (const name of (m[1] as string).split(',').map(s => s.trim())) {
      if (clients.includes(name)) found.push(`import { ${name} } from '@platformatic/kafka'`)
    }
  }
  return found
}

it('builds Kafka clients only under src/kafka/', () => {
  const files = sourceFiles(src)
  assert.ok(files.length > 50, `found ${files.length} source files`)
  const outside: string[] = []
  for (const file of files) {
    if (!relative(adapter, file).startsWith('..')) continue
    for (const use of kafkaClientUses(readFileSync(file, 'utf8'))) outside.push(`${relative(root, file)}: ${use}`)
  }
  assert.deepEqual(outside, [])
})

it('sees a client built or imported, and ignores types and other classes', () => {
  assert.deepEqual(
    kafkaClientUses(
      "import { Admin, type Message, ProduceAcks } from '@platformatic/kafka'\n" +
        'const p = new Producer<Buffer, Buffer, Buffer, Buffer>({})\nconst c = new Consumer({ groupId })\n' +
        'const m = new Map()\nconst e = new Error()',
    ),
    ['new Producer<', 'new Consumer(', "import { Admin } from '@platformatic/kafka'"],
  )
  assert.deepEqual(kafkaClientUses("import type { MessagesStream } from '@platformatic/kafka'"), [])
})
