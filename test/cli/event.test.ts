// `pipeline event <eventId>` as an operator runs it, against a real SQLite file and Redis: the stored event's
// status, and the warning that its row may not be current while a newer record of its key waits in the DLQ.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRedisDlq } from '../../src/dlq/index.ts'
import { parseEvent } from '../../src/events/index.ts'
import { createStore } from '../../src/store/index.ts'
import { cliEnv, startCli } from '../helpers/cli.ts'
import { userCreated } from '../helpers/events.ts'
import { letter } from '../helpers/letters.ts'
import { redisPrefix, sqliteFile } from '../helpers/resources.ts'
import { testServices } from '../helpers/services.ts'

describe('pipeline event', () => {
  it('tells that a stored row may not be current while a newer record of its key is dead-lettered', async t => {
    const { prefix } = redisPrefix(t)
    const key = `${prefix}dlq`
    const file = sqliteFile(t)
    const store = await createStore({ engine: 'sqlite', path: file })
    await store.migrate()
    const user = userCreated('u1')
    await store.applyBatch([{ event: parseEvent(user), source: { topic: 'events', partition: 0, offset: 4n } }])
    await store.close()
    const env = cliEnv({ DATABASE_URL: `sqlite:${file}`, DLQ_KEY: key })
    const run = async (...args: string[]) => startCli(t, ['event', user.eventId, ...args], env).done

    const current = await run()
    assert.equal(current.code, 0, current.stderr)
    assert.match(current.stdout, new RegExp(`event ${user.eventId}: applied`))
    assert.doesNotMatch(current.stdout, /may not be current/)

    const later = userCreated('u1')
    const dlq = createRedisDlq({ addr: testServices.redisAddr, password: testServices.redisPassword, key })
    t.after(() => dlq.close())
    await dlq.push([letter(9, { eventId: later.eventId, partition: 0, key: 'u1' })])

    const stale = await run()
    assert.equal(stale.code, 0, stale.stderr)
    assert.match(stale.stdout, new RegExp(`event ${user.eventId}: applied`))
    assert.match(
      stale.stdout,
      new RegExp(
        `its row may not be current: 1 dead letter\\(s\\) of its key it does not reflect, newest ${later.eventId} at 0:9`,
      ),
    )
    const json = await run('--json')
    assert.equal(json.code, 0, json.stderr)
    const status = JSON.parse(json.stdout)
    assert.equal(status.status, 'applied')
    assert.deepEqual(status.deadLettered, { count: 1, newestEventId: later.eventId, partition: 0, offset: '9' })
  })
})
