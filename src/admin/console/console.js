// The console: plain JavaScript shipped as source (no build step), talking only to the admin API of the port
// that served it. The admin token lives in sessionStorage (this tab, until sign-out or close) and goes with every
// call as a bearer token. Every value from the server is put on the page as text, never as HTML.

const tokenKey = 'event-pipeline.admin-token'
const sections = ['overview', 'dead-letters', 'event', 'audit']
const numbers = new Intl.NumberFormat()
const $ = id => document.getElementById(id)

const formatNumber = n => (typeof n === 'number' ? numbers.format(n) : '–')
const entryCount = n => `${formatNumber(n)} ${n === 1 ? 'entry' : 'entries'}`
const formatTime = iso => {
  if (!iso) return '–'
  const at = new Date(iso)
  return Number.isNaN(at.getTime()) ? String(iso) : at.toLocaleString()
}

/** An element with text children (strings) or elements; attributes set as properties or attributes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value)
    else if (name in el && name !== 'list') el[name] = value
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

function showAlert(message) {
  const alert = $('alert')
  alert.textContent = message
  alert.hidden = message === ''
}

class SignedOut extends Error {}

async function api(method, path, body) {
  const token = sessionStorage.getItem(tokenKey)
  if (!token) throw new SignedOut('not signed in')
  const response = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  let data
  try {
    data = text === '' ? undefined : JSON.parse(text)
  } catch {
    data = undefined
  }
  if (response.status === 401) {
    signOut('The admin token was refused (401). Sign in again.')
    throw new SignedOut('unauthorized')
  }
  if (!response.ok) {
    const message = data?.error?.message ?? `${response.status} ${response.statusText}`
    const error = new Error(`${method} ${path}: ${message}`)
    error.status = response.status
    error.data = data
    throw error
  }
  return data
}

/** Runs `work`, showing its error in the alert region; a sign-out is not an error worth showing twice. */
async function guarded(work) {
  try {
    await work()
  } catch (error) {
    if (!(error instanceof SignedOut)) showAlert(error.message)
  }
}

function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows)
}

// ── sign in / out and navigation ────────────────────────────────────────────────────────────────────────────

function signOut(message = '') {
  sessionStorage.removeItem(tokenKey)
  stopOverview()
  showAlert(message)
  route()
}

function route() {
  const signedIn = sessionStorage.getItem(tokenKey) !== null
  $('sign-in').hidden = signedIn
  $('nav').hidden = !signedIn
  const wanted = location.hash.slice(1)
  const current = signedIn ? (sections.includes(wanted) ? wanted : 'overview') : undefined
  for (const id of sections) $(id).hidden = id !== current
  for (const link of $('nav').querySelectorAll('a')) {
    if (link.getAttribute('href') === `#${current}`) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  if (current === 'overview') startOverview()
  else stopOverview()
  if (current === 'dead-letters' && !deadLetters.loaded) guarded(() => searchDeadLetters())
  if (current === 'audit') guarded(loadAudit)
  if (!signedIn) $('token').focus()
}

$('sign-in-form').addEventListener('submit', async event => {
  event.preventDefault()
  sessionStorage.setItem(tokenKey, $('token').value.trim())
  $('token').value = ''
  try {
    await api('GET', '/admin/overview')
    showAlert('')
    if (location.hash === '' || location.hash === '#') location.hash = '#overview'
    route()
    $('main').focus()
  } catch (error) {
    if (!(error instanceof SignedOut)) showAlert(error.message)
  }
})
$('sign-out').addEventListener('click', () => signOut())
window.addEventListener('hashchange', route)

// ── overview ────────────────────────────────────────────────────────────────────────────────────────────────

let overviewTimer
/** The previous sample of committed offsets, for the applied rate per partition. */
let previous

function stopOverview() {
  clearInterval(overviewTimer)
  overviewTimer = undefined
}

function startOverview() {
  if (overviewTimer !== undefined) return
  guarded(refreshOverview)
  overviewTimer = setInterval(() => guarded(refreshOverview), 2000)
}

function countsRows(counts) {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return [h('tr', {}, h('td', { colSpan: 2 }, 'none'))]
  return entries.map(([name, n]) => h('tr', {}, h('td', {}, name), h('td', { className: 'num' }, formatNumber(n))))
}

async function refreshOverview() {
  const [overview, stats] = await Promise.all([api('GET', '/admin/overview'), api('GET', '/admin/dlq/stats')])
  $('overview-at').textContent = `Last: ${formatTime(overview.at)}.`
  fillRows(
    $('roles').tBodies[0],
    Object.entries(overview.roles).map(([role, probe]) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, role),
        h('td', { className: probe.health === 'ok' ? 'ok' : 'bad' }, probe.health),
        h('td', { className: probe.ready === 'ready' ? 'ok' : 'bad' }, probe.ready),
        h(
          'td',
          {},
          Object.entries(probe.checks ?? {})
            .map(([name, check]) => (check.ok ? `${name} ok` : `${name}: ${check.error ?? 'failing'}`))
            .join(' · '),
        ),
      ),
    ),
  )
  $('topic-name').textContent = `(topic ${overview.topic}, group ${overview.group})`
  $('kafka-error').hidden = overview.kafkaError === undefined
  $('kafka-error').textContent = overview.kafkaError ? `Kafka: ${overview.kafkaError}` : ''
  const now = Date.parse(overview.at)
  const rows = (overview.partitions ?? []).map(p => {
    let rate = '–'
    const before = previous?.committed.get(p.partition)
    if (before !== undefined && p.committed !== null && now > previous.at) {
      rate = formatNumber(Math.max(0, Math.round(((p.committed - before) * 1000) / (now - previous.at))))
    }
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, String(p.partition)),
      h('td', { className: 'num' }, formatNumber(p.end)),
      h('td', { className: 'num' }, p.committed === null ? 'none yet' : formatNumber(p.committed)),
      h('td', { className: `num ${p.lag > 0 ? 'warn' : ''}` }, formatNumber(p.lag)),
      h('td', { className: 'num' }, rate),
    )
  })
  fillRows($('partitions').tBodies[0], rows)
  previous = {
    at: now,
    committed: new Map(
      (overview.partitions ?? []).filter(p => p.committed !== null).map(p => [p.partition, p.committed]),
    ),
  }
  $('pending').textContent =
    overview.pending === null
      ? `Unknown: ${overview.pendingError ?? 'the database did not answer'}`
      : overview.pending.count === 0
        ? 'None.'
        : `${overview.pending.capped ? '≥ ' : ''}${formatNumber(overview.pending.count)} waiting for their parent; the oldest for ${formatNumber(overview.pending.oldestAgeSeconds)} s.`
  $('dlq-total').textContent =
    `${entryCount(stats.total)}; oldest ${formatTime(stats.oldest)}, newest ${formatTime(stats.newest)}.`
  fillRows($('dlq-by-code').tBodies[0], countsRows(stats.byCode))
  fillRows($('dlq-by-type').tBodies[0], countsRows(stats.byType))
}

// ── dead letters ────────────────────────────────────────────────────────────────────────────────────────────

const deadLetters = { loaded: false, next: null, filter: {}, entries: new Map() }

/** The filter form as the admin API's filter: empty fields left out, local times as ISO-8601 UTC. */
function currentFilter() {
  const form = new FormData($('dlq-filter'))
  const filter = {}
  for (const name of ['type', 'code', 'key', 'eventId', 'source']) {
    const value = String(form.get(name) ?? '').trim()
    if (value !== '') filter[name] = value
  }
  for (const name of ['since', 'until']) {
    const value = String(form.get(name) ?? '')
    if (value !== '') filter[name] = new Date(value).toISOString()
  }
  return filter
}

function typeOf(entry) {
  if (entry.payloadEncoding !== 'utf8' || typeof entry.payload !== 'string') return '–'
  try {
    const value = JSON.parse(entry.payload)
    return typeof value?.type === 'string' ? value.type : '–'
  } catch {
    return '–'
  }
}

const positionOf = e => (e.topic === null ? 'never reached Kafka' : `${e.topic}/${e.partition}@${e.offset}`)
const entryId = e => (e.topic === null ? `producer:${e.failedAt}` : `${e.topic}/${e.partition}/${e.offset}`)

function entryRow(entry) {
  const id = entryId(entry)
  deadLetters.entries.set(id, entry)
  return h(
    'tr',
    {},
    h('td', {}, formatTime(entry.failedAt)),
    h('td', { className: 'mono' }, entry.eventId ?? '–'),
    h('td', {}, typeOf(entry)),
    h('td', { className: 'mono' }, entry.key ?? '–'),
    h('td', {}, entry.error?.code ?? '–'),
    h('td', {}, entry.source),
    h('td', { className: 'mono' }, positionOf(entry)),
    h(
      'td',
      {},
      h(
        'button',
        { type: 'button', onclick: () => showEntry(id), 'aria-label': `View ${entry.eventId ?? id}` },
        'View',
      ),
    ),
  )
}

async function searchDeadLetters(cursor = null) {
  deadLetters.loaded = true
  const filter = cursor === null ? currentFilter() : deadLetters.filter
  deadLetters.filter = filter
  const limit = Number(new FormData($('dlq-filter')).get('limit') || 50)
  const query = new URLSearchParams({ ...filter, limit: String(limit) })
  if (cursor !== null) query.set('cursor', cursor)
  const page = await api('GET', `/admin/dlq?${query}`)
  if (cursor === null) deadLetters.entries.clear()
  const rows = page.entries.map(entryRow)
  if (cursor === null) fillRows($('dlq-table').tBodies[0], rows)
  else $('dlq-table').tBodies[0].append(...rows)
  $('dlq-count').textContent =
    `${entryCount(page.total)} in the dead-letter queue; showing ${formatNumber(deadLetters.entries.size)} that match.`
  deadLetters.next = page.next
  $('dlq-next').hidden = page.next === null
}

$('dlq-filter').addEventListener('submit', event => {
  event.preventDefault()
  guarded(() => searchDeadLetters())
})
$('dlq-next').addEventListener('click', () => guarded(() => searchDeadLetters(deadLetters.next)))

function prettyPayload(entry) {
  if (entry.payload === null) return '(no payload)'
  if (entry.payloadEncoding === 'base64') return `(base64, not UTF-8)\n${entry.payload}`
  try {
    return JSON.stringify(JSON.parse(entry.payload), null, 2)
  } catch {
    return entry.payload
  }
}

let shownEntry
function showEntry(id) {
  const entry = deadLetters.entries.get(id)
  if (entry === undefined) return
  shownEntry = entry
  const fields = [
    ['Event id', entry.eventId ?? '–'],
    ['Error', `${entry.error?.code}: ${entry.error?.message}`],
    ['Failed at', formatTime(entry.failedAt)],
    ['Attempts', formatNumber(entry.attempts)],
    ['Kafka position', positionOf(entry)],
    ['Key', entry.key ?? '–'],
    ['Source', entry.source],
  ]
  if (entry.payloadTruncated)
    fields.push(['Payload', `cut to the entry cap: ${formatNumber(entry.payloadBytes)} bytes in all`])
  $('entry-fields').replaceChildren(...fields.flatMap(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]))
  $('entry-payload').textContent = prettyPayload(entry)
  const fixable = entry.eventId !== null && entry.source === 'consumer' && entry.payloadEncoding === 'utf8'
  $('fix-form').hidden = !fixable
  $('fix-payload').value = fixable ? prettyPayload(entry) : ''
  $('entry').hidden = false
  $('entry-title').textContent = `Dead letter ${entry.eventId ?? positionOf(entry)}`
  $('entry-title').setAttribute('tabindex', '-1')
  $('entry-title').focus()
}

$('entry-close').addEventListener('click', () => {
  $('entry').hidden = true
})

$('fix-form').addEventListener('submit', event => {
  event.preventDefault()
  guarded(async () => {
    let payload
    try {
      payload = JSON.parse($('fix-payload').value)
    } catch (error) {
      throw new Error(`The fixed payload is not JSON: ${error.message}`)
    }
    const { eventId } = shownEntry
    const request = { eventId, payload, filter: {} }
    const result = await api('POST', '/admin/dlq/redrive', { ...request, dryRun: true })
    showPreview('redrive', result, async () => {
      $('entry').hidden = true
      await followJob(await api('POST', '/admin/dlq/redrive', request))
    })
  })
})

// Redrive and purge: a dry run first, shown with a confirm button that does the real thing.
let confirmed
function showPreview(kind, result, action) {
  confirmed = action
  $('preview-title').textContent = kind === 'redrive' ? 'Redrive preview (dry run)' : 'Purge preview (dry run)'
  $('preview-summary').textContent =
    `${entryCount(result.count)} would be ` +
    `${kind === 'redrive' ? 'sent back to Kafka' : 'removed for good'}. Nothing has changed yet.`
  const ids = (result.entries ?? []).map(e => e.eventId ?? positionOf(e)).concat(result.eventIds ?? [])
  $('preview-list').replaceChildren(...ids.slice(0, 50).map(id => h('li', { className: 'mono' }, id)))
  if (ids.length > 50) $('preview-list').append(h('li', {}, `… and ${formatNumber(ids.length - 50)} more`))
  $('preview-confirm').textContent = `${kind === 'redrive' ? 'Redrive' : 'Purge'} ${entryCount(result.count)}`
  $('preview-confirm').disabled = result.count === 0
  $('preview').hidden = false
  $('preview-confirm').focus()
}

$('redrive-preview').addEventListener('click', () =>
  guarded(async () => {
    const filter = currentFilter()
    const result = await api('POST', '/admin/dlq/redrive', { filter, dryRun: true })
    showPreview('redrive', result, async () => followJob(await api('POST', '/admin/dlq/redrive', { filter })))
  }),
)
$('purge-preview').addEventListener('click', () =>
  guarded(async () => {
    const filter = currentFilter()
    const result = await api('POST', '/admin/dlq/purge', { filter, dryRun: true })
    showPreview('purge', result, async () => {
      const purged = await api('POST', '/admin/dlq/purge', { filter, dryRun: false, confirm: true })
      await searchDeadLetters()
      $('dlq-count').textContent = `Purged ${entryCount(purged.count)}.`
    })
  }),
)
$('preview-cancel').addEventListener('click', () => {
  $('preview').hidden = true
  confirmed = undefined
})
$('preview-confirm').addEventListener('click', () =>
  guarded(async () => {
    const action = confirmed
    confirmed = undefined
    $('preview').hidden = true
    await action?.()
  }),
)

async function followJob(started) {
  $('job').hidden = false
  $('job-title').textContent = `Redrive ${started.redriveId}`
  const progress = $('job-progress')
  for (;;) {
    const job = await api('GET', `/admin/dlq/redrives/${encodeURIComponent(started.redriveId)}`)
    progress.max = Math.max(1, job.total)
    progress.value = job.sent + job.failed
    $('job-status').textContent =
      `${job.state}: ${formatNumber(job.sent)} of ${formatNumber(job.total)} sent${job.failed ? `, ${formatNumber(job.failed)} failed` : ''}${job.error ? ` (${job.error})` : ''}`
    if (job.state !== 'running') break
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  await searchDeadLetters()
}

// ── event lookup ────────────────────────────────────────────────────────────────────────────────────────────

const formatPosition = p => (p ? `${p.topic}/${p.partition}@${p.offset}` : 'never reached Kafka')

/** One field of an event's status as text: times in the browser's zone, positions as topic/partition@offset. */
function describeField(name, v) {
  if (name === 'at' || name === 'since') return formatTime(v)
  if (name === 'position') return formatPosition(v)
  if (name === 'by') return `${v.eventId} (${formatTime(v.timestamp)}, ${formatPosition(v.position)})`
  if (name === 'waitingFor') return `${v.table} ${v.key} (${v.constraint})`
  if (name === 'lastSeen') return `${v.table} ${v.key}, ${formatPosition(v.position)}`
  if (name === 'deadLetters') {
    return v.map(d => `${d.code}: ${d.message} (${formatTime(d.failedAt)}, ${formatPosition(d.position)})`).join('; ')
  }
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function describeStatus(status) {
  const items = Object.entries(status).filter(([name]) => name !== 'status' && name !== 'eventId')
  return h(
    'div',
    {},
    h('p', {}, 'Status: ', h('strong', { className: `status-${status.status}` }, status.status)),
    h(
      'dl',
      {},
      items.flatMap(([name, v]) => [h('dt', {}, name), h('dd', {}, describeField(name, v))]),
    ),
  )
}

$('event-form').addEventListener('submit', event => {
  event.preventDefault()
  guarded(async () => {
    const id = $('event-id').value.trim()
    const status = await api('GET', `/admin/events/${encodeURIComponent(id)}`)
    $('event-result').replaceChildren(describeStatus(status))
  })
})

// ── audit ───────────────────────────────────────────────────────────────────────────────────────────────────

async function loadAudit() {
  const audit = await api('GET', '/admin/audit?limit=100')
  const rows = audit.entries.map(a =>
    h(
      'tr',
      {},
      h('td', {}, formatTime(a.at)),
      h('td', {}, a.who ?? '–'),
      h('td', {}, a.action ?? '–'),
      h('td', { className: 'num' }, formatNumber(a.count)),
      h('td', { className: 'mono' }, JSON.stringify(a.filter ?? {})),
    ),
  )
  fillRows($('audit-table').tBodies[0], rows.length > 0 ? rows : [h('tr', {}, h('td', { colSpan: 5 }, 'none yet'))])
}

route()
