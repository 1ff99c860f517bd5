// A scan of JSON text before it is parsed, refusing shapes no batch of events can have. JSON.parse and what runs
// on its result (validation, serialisation) cost time with the number of object members and stack with nesting;
// a body built to maximise either is refused here in one pass over its characters, stopping at the first
// excess, so it never reaches them.

export interface JsonShapeLimits {
  /** Deepest nesting of arrays and objects (a batch of events is 3 levels deep). */
  readonly depth: number
  /** Most members in any one object (an event has 4, its data at most 5). */
  readonly members: number
}

export type ShapeExcess = { kind: 'depth' | 'members'; limit: number }

/**
 * The first limit `text` exceeds, or undefined. Strings are skipped whole, with the brackets, colons and quotes
 * inside them; text that is not JSON at all is left for JSON.parse to refuse.
 */
export function jsonShapeExcess(text: string, limits: JsonShapeLimits): ShapeExcess | undefined {
  // members[d] counts the colons of the object open at depth d, or is -1 for an array.
  const members = new Int32Array(limits.depth + 1)
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      // Most of an event's text is strings: jump to the quote that closes this one (one not escaped, that is
      // preceded by an even run of backslashes) instead of visiting each character.
      let end = text.indexOf('"', i + 1)
      while (end > 0 && escaped(text, end)) end = text.indexOf('"', end + 1)
      if (end < 0) return undefined
      i = end
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limits.depth) return { kind: 'depth', limit: limits.depth }
      members[depth] = c === 123 ? 0 : -1
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth > 0) depth--
    } else if (c === 58 /* : */ && depth > 0 && members[depth]! >= 0) {
      if (++members[depth]! > limits.members) return { kind: 'members', limit: limits.members }
    }
  }
  return undefined
}

/** Whether the quote at `quote` is escaped: an odd number of backslashes right before it. */
function escaped(text: string, quote: number): boolean {
  let backslashes = 0
  for (let j = quote - 1; text.charCodeAt(j) === 92 /* \\ */; j--) backslashes++
  return backslashes % 2 === 1
}
