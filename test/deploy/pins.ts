// Image references that name one release. A tag such as `latest`, `2022-latest` or `24-slim` moves when its
// publisher pushes a new build, so two `up`s a week apart would run different software and a bug could not be
// traced to a version. A pinned tag names a patch release (`4.1.1`, `v3.5.0`, `24.21.0-slim`) or, for SQL Server,
// one cumulative update (`2022-CU20-ubuntu-22.04`).

/** The problem with `image`'s tag, or undefined when it names one release. */
export function pinProblem(image: string): string | undefined {
  // The tag is what follows the last colon after the last slash (a registry may carry a port: host:5000/x:1.0).
  const slash = image.lastIndexOf('/')
  const colon = image.indexOf(':', slash + 1)
  if (image.includes('@sha256:')) return undefined
  if (colon === -1) return `${image}: no tag (Docker reads it as latest)`
  const tag = image.slice(colon + 1)
  if (/(^|[-_.])latest($|[-_.])/i.test(tag)) return `${image}: a latest tag moves with every push`
  if (/^v?\d+\.\d+\.\d+([-_.+][\w.-]+)?$/.test(tag) || /^\d{4}-CU\d+(-[\w.-]+)?$/.test(tag)) return undefined
  return `${image}: ${tag} does not name one release (major.minor.patch, or a SQL Server CU)`
}
