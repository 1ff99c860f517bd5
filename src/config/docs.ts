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
