// A store's identity names its rebuild's keys: the same database gives the same identity whatever the
// credentials or the spelling of its path, different databases give different ones.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { storeIdOf, storeLocation } from '../../src/rebuild/store-id.ts'

describe('store identity', () => {
  it('ignores credentials, and tells hosts, ports and databases apart', () => {
    const a = storeIdOf({ engine: 'postgres', url: 'postgres://app:one@DB.example:5432/pipeline' })
    assert.equal(a, storeIdOf({ engine: 'postgres', url: 'postgres://app:rotated@db.example:5432/pipeline' }))
    assert.notEqual(a, storeIdOf({ engine: 'postgres', url: 'postgres://app:one@db.example:5432/other' }))
    assert.notEqual(a, storeIdOf({ engine: 'postgres', url: 'postgres://app:one@db.example:5433/pipeline' }))
    assert.match(a, /^[0-9a-f]{16}$/)
    assert.doesNotMatch(storeLocation({ engine: 'postgres', url: 'postgres://app:secret@h:1/d' }), /secret/)
  })

  it('resolves SQLite paths, and reads SQL Server connection strings whatever the order of their keys', () => {
    assert.equal(
      storeIdOf({ engine: 'sqlite', path: './data/p.db' }),
      storeIdOf({ engine: 'sqlite', path: `${process.cwd()}/data/p.db` }),
    )
    const one = storeIdOf({ engine: 'mssql', connectionString: 'Server=db;Database=p;User Id=a;Password=x' })
    assert.equal(one, storeIdOf({ engine: 'mssql', connectionString: 'Password=y;database=p;server=DB' }))
    assert.notEqual(one, storeIdOf({ engine: 'mssql', connectionString: 'Server=db;Database=q' }))
  })
})
