import { spec } from './spec.ts'

/** The configuration table of the README (markdown), made from the spec so the two cannot drift apart. */
export function configTable(): string {
  const rows = Object.values(spec).map(v => {
    const roles = 'roles' in v ? v.roles.join(', ') : 'all'
    const def = v.default === undefined ? '(unset)' : v.default === '' ? '(empty)' : `\`${v.default}\``
    return `| \`${v.name}\` | ${def} | ${roles} | ${v.description.replaceAll('|', '\\|')} |`
  })
  return ['| Variable | Default | Read by | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n')
}

/** Words of `text` in lines of at most `width` columns, each starting with `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = []
  let line = indent
  for (const word of text.split(/\s+/)) {
    if (line.length > indent.length && line.length + 1 + word.length > width) {
      lines.push(line)
      line = indent
    }
    line += line.length > indent.length ? ` ${word}` : word
  }
  if (line.length > indent.length) lines.push(line)
  return lines
}

/** The variables for a terminal (`pipeline --help`): name, default and roles, then the meaning, within 100 columns. */
export function configHelp(width = 100): string {
  const blocks = Object.values(spec).map(v => {
    const roles = 'roles' in v ? v.roles.join(', ') : 'all roles'
    const def = v.default === undefined ? 'unset' : v.default === '' ? 'empty' : v.default
    return [...wrap(`${v.name} (default ${def}; ${roles})`, width, '  '), ...wrap(v.description, width, '      ')].join(
      '\n',
    )
  })
  return blocks.join('\n')
}
