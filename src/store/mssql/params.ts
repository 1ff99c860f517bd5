// Explicitly typed parameters. Kysely's MSSQL driver picks a tedious type from the JavaScript value (every string
// NVARCHAR, every fraction FLOAT), which would make SQL Server convert each value on its way into a VARCHAR or
// DECIMAL(18,2) column. The write statements bind `Typed` values instead, and TypedRequest, the Request class the
// dialect is given, hands their declared type, length, precision and scale to tedious. The checks below run
// before anything is sent, so a value that cannot travel exactly fails with a message naming its column.
import { Request, RequestError, TYPES } from 'tedious'
import { PipelineError } from '../../errors.ts'
import { maxBytesPerCharacter } from './migrations.ts'

export type ParamKind = 'varchar' | 'decimal' | 'datetime2' | 'int' | 'bigint'

export interface ParamOptions {
  /** Text: the column's length in characters (code points), the reference system's VARCHAR(n). */
  readonly length?: number
  readonly precision?: number
  readonly scale?: number
}

/** A value with the SQL Server type it is bound as. */
export class Typed {
  readonly kind: ParamKind
  readonly value: string | number | bigint | Date | null
  readonly options: ParamOptions

  constructor(kind: ParamKind, value: Typed['value'], options: ParamOptions = {}) {
    this.kind = kind
    this.value = value
    this.options = options
  }

  /** The declaration tedious sends for it when the connection's code page is UTF-8, e.g. `varchar(100)`. */
  get declaration(): string {
    const { length, precision, scale } = this.options
    switch (this.kind) {
      case 'varchar':
        return `varchar(${(length ?? 0) * maxBytesPerCharacter})`
      case 'decimal':
        return `decimal(${precision}, ${scale})`
      case 'datetime2':
        return `datetime2(${scale})`
      default:
        return this.kind
    }
  }
}

const outOfRange = (message: string) => new PipelineError('DATA_OUT_OF_RANGE', message)

/**
 * Text of at most `length` characters, counted in code points as the event schema and PostgreSQL count them:
 * the schema's columns (migrations.ts) hold that many whatever their UTF-8 size.
 */
export function varchar(value: string | null, length: number, column: string): Typed {
  if (value !== null) {
    // A lone UTF-16 surrogate has no UTF-8 form: encoding would silently turn it into U+FFFD.
    if (!value.isWellFormed()) throw outOfRange(`${column} is not valid Unicode (it holds a lone surrogate)`)
    const characters = codePoints(value)
    if (characters > length) throw outOfRange(`${column} is ${characters} characters, more than the ${length} it holds`)
  }
  return new Typed('varchar', value, { length })
}

function codePoints(value: string): number {
  let n = 0
  for (const _ of value) n++
  return n
}

const money = /^-?(\d{1,16})\.(\d{2})$/

/**
 * DECIMAL(18,2) from the exact text batch.ts makes. tedious takes a number and sends round(|x| * 100), so the
 * text is bound only when that integer is exactly its digits: always below the event schema's 1e13, where a
 * double holds every cent; past it, the record fails instead of losing a cent.
 */
export function decimal(text: string, column: string): Typed {
  const m = money.exec(text)
  if (m === null) throw outOfRange(`${column} ${text} does not fit DECIMAL(18,2)`)
  const value = Number(text)
  if (BigInt(Math.round(Math.abs(value * 100))) !== BigInt(`${m[1]}${m[2]}`)) {
    throw outOfRange(`${column} ${text} cannot be sent exactly as DECIMAL(18,2)`)
  }
  return new Typed('decimal', value, { precision: 18, scale: 2 })
}

/** DATETIME2(3) in UTC (the connection sets useUTC): events carry milliseconds, and nothing finer. */
export function datetime2(iso: string, column: string): Typed {
  const ms = Date.parse(iso)
  const year = new Date(ms).getUTCFullYear()
  if (!Number.isFinite(ms) || year < 1 || year > 9999) throw outOfRange(`${column} ${iso} is not a DATETIME2`)
  return new Typed('datetime2', new Date(ms), { scale: 3 })
}

export function int(value: number | null, column: string): Typed {
  if (value === null) return new Typed('int', null)
  if (!Number.isInteger(value) || value < -2_147_483_648 || value > 2_147_483_647) {
    throw outOfRange(`${column} ${value} does not fit INT`)
  }
  return new Typed('int', value)
}

const int64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n }

export function bigint(value: bigint | number | null, column: string): Typed {
  if (value === null) return new Typed('bigint', null)
  const v = typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value) : undefined
  if (v === undefined || v < int64.min || v > int64.max) throw outOfRange(`${column} ${value} does not fit BIGINT`)
  return new Typed('bigint', v)
}

type DataType = (typeof TYPES)[keyof typeof TYPES]

const tediousTypes: Record<ParamKind, DataType> = {
  varchar: TYPES.VarChar,
  decimal: TYPES.Decimal,
  datetime2: TYPES.DateTime2,
  int: TYPES.Int,
  bigint: TYPES.BigInt,
}

type AddParameter = Request['addParameter']
type ValidateParameters = Request['validateParameters']

/**
 * The Request class handed to Kysely's MssqlDialect. Typed values keep their declared type. Strings, typed or
 * not, go as VARCHAR when the connection's code page is UTF-8 (tedious encodes VARCHAR in that code page, so
 * nothing is lost, and a key lookup compares VARCHAR with the VARCHAR column and seeks its index) and as
 * NVARCHAR otherwise, which SQL Server converts into the UTF-8 columns without loss and, their collation being
 * a Windows one, still seeks on. The code page is only known here, when the connection validates the request
 * just before sending it. A text column of n characters takes at most 4n UTF-8 bytes or 2n UTF-16 units.
 */
export class TypedRequest extends Request {
  readonly #strings = new Set<string>()
  /** Typed text parameters: their length in characters. */
  readonly #characters = new Map<string, number>()

  override addParameter(...[name, type, value, options]: Parameters<AddParameter>): void {
    if (value instanceof Typed) {
      if (value.kind === 'varchar') {
        this.#strings.add(name)
        if (value.options.length !== undefined) this.#characters.set(name, value.options.length)
        super.addParameter(name, tediousTypes[value.kind], value.value, options)
        return
      }
      super.addParameter(name, tediousTypes[value.kind], value.value, { ...options, ...value.options })
      return
    }
    if (typeof value === 'string') {
      this.#strings.add(name)
      super.addParameter(name, TYPES.VarChar, value, options)
      return
    }
    super.addParameter(name, type, value, options)
  }

  override validateParameters(...[collation, options]: Parameters<ValidateParameters>): void {
    const utf8 = collation?.codepage === 'utf-8'
    for (const parameter of this.parameters) {
      if (!this.#strings.has(parameter.name)) continue
      parameter.type = utf8 ? TYPES.VarChar : TYPES.NVarChar
      const characters = this.#characters.get(parameter.name)
      if (characters !== undefined) parameter.length = characters * (utf8 ? maxBytesPerCharacter : 2)
      if (typeof parameter.value !== 'string') continue
      const size = utf8 ? Buffer.byteLength(parameter.value, 'utf8') : parameter.value.length
      const max = utf8 ? 8000 : 4000
      if (parameter.length === undefined) {
        // One declared length for every lookup value, so SQL Server reuses one plan instead of one per length.
        if (size <= max) parameter.length = max
      } else if (size > parameter.length) {
        throw new RequestError(`parameter @${parameter.name} is longer than its declared length`, 'EPARAM')
      }
    }
    super.validateParameters(collation, options)
  }
}
