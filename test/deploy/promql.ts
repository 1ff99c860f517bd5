// The metric names a PromQL expression reads, the names a /metrics page exports, and the expressions of a Grafana
// dashboard: enough PromQL to check that deploy/ asks only for series the roles serve.

const keywords = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
])

/**
 * The metric names in `expr`: identifiers left once strings, label matchers, ranges, grouping clauses, Grafana
 * variables and numbers are taken out, other than function names (followed by a parenthesis) and keywords.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ')
    .replace(/(?<![\w:])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|s|m|h|d|w|y)?/gi, ' ')
  const names = new Set<string>()
  for (const m of bare.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const after = bare.slice((m.index ?? 0) + m[0].length)
    if (/^\s*\(/.test(after) || keywords.has(m[0].toLowerCase())) continue
    names.add(m[0])
  }
  return [...names]
}

/**
 * The series names a Prometheus text page can have, from its `# TYPE` lines (a metric is declared there even
 * before it has a sample): histograms add _bucket, _sum and _count, summaries _sum and _count.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>()
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string]
    names.add(name)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix)
  }
  return names
}

/** Every `expr` of a Grafana dashboard's panels (rows' nested panels included), with the panel's title. */
export function dashboardExpressions(dashboard: unknown): { title: string; expr: string }[] {
  const found: { title: string; expr: string }[] = []
  const visit = (panel: { title?: string; targets?: { expr?: string }[]; panels?: unknown[] }) => {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr === 'string') found.push({ title: panel.title ?? '', expr: target.expr })
    }
    for (const inner of panel.panels ?? []) visit(inner as typeof panel)
  }
  for (const panel of (dashboard as { panels?: unknown[] }).panels ?? []) visit(panel as Parameters<typeof visit>[0])
  return found
}

/** "panel: name" for each metric a dashboard reads that is not in `exported`. */
export function unknownDashboardNames(dashboard: unknown, exported: ReadonlySet<string>): string[] {
  return dashboardExpressions(dashboard).flatMap(({ title, expr }) =>
    metricNames(expr)
      .filter(name => !exported.has(name))
      .map(name => `${title}: ${name}`),
  )
}
