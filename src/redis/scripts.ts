// The Lua scripts, one `.lua` file each in ./lua/, read when the module that runs them is loaded. A line
// `--@include NAME` stands for NAME.lua (functions several scripts share), so each script Redis receives is
// whole. ioredis sends a script's SHA (EVALSHA) and its text only when the server does not know it yet.
import { readFileSync } from 'node:fs'

const folder = new URL('./lua/', import.meta.url)
const loaded = new Map<string, string>()

/** The text of ./lua/NAME.lua with its includes in place; read once per process. */
export function luaScript(name: string): string {
  let text = loaded.get(name)
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.lua`, folder), 'utf8').replace(
      /^--@include ([a-z0-9-]+)\n/gm,
      (_, included: string) => `${luaScript(included)}\n`,
    )
    loaded.set(name, text)
  }
  return text
}
