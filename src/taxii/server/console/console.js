// The relay admin console: plain browser JavaScript, no framework, served by the node.
// Credentials live in this module's memory only (never in storage or cookies) and go with each
// call to the JSON API under /admin/. Everything the API returns is inserted as text (never as
// markup): the page's Content-Security-Policy allows no inline script, and data never becomes code.

/** @type {{ auth: string | null, admin: string | null, members: any[] | null, review: any | null }} */
const session = { auth: null, admin: null, members: null, review: null };

const $ = (id) => document.getElementById(id);

/** An element with attributes (`on…` are listeners, `class` the class name) and children (strings are text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attrs);
  append(node, children);
  return node;
}

function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'class') node.setAttribute('class', value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

function replace(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the admin API with the session's credentials; errors are the server's TAXII error objects. */
async function api(path, init = {}) {
  // X-Relay-Console: a refusal then challenges without Basic, so the browser shows no password dialog
  const headers = { Accept: 'application/json', Authorization: session.auth ?? '', 'X-Relay-Console': '1' };
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const why = body && typeof body === 'object' ? body.description || body.title : null;
    throw new ApiError(res.status, why || `HTTP ${res.status}`);
  }
  return body;
}

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

function say(text, kind = 'info') {
  const m = $('message');
  m.textContent = text;
  m.className = kind;
}

/** Runs a loader, showing its failure (a 401 signs the admin out). */
async function guarded(run) {
  try {
    await run();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signOut('Your session was refused; sign in again.');
    say(error.message, 'error');
  }
}

// ---- sign-in --------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const user = $('login-user').value.trim();
  const password = $('login-password').value;
  $('login-password').value = '';
  session.auth = basic(user, password);
  try {
    const status = await api('/admin/status');
    session.admin = user;
    $('login-error').textContent = '';
    $('login').hidden = true;
    $('tabs').hidden = false;
    $('admin-id').textContent = `(${user})`;
    $('node-title').textContent = status.node.title;
    show('status', status);
  } catch (error) {
    session.auth = null;
    $('login-error').textContent =
      error instanceof ApiError && error.status === 401
        ? 'Wrong admin id or password.'
        : error instanceof ApiError && error.status === 403
          ? 'These are member credentials: the console is for the admins of this node.'
          : error.message;
  }
}

function signOut(why = '') {
  session.auth = null;
  session.admin = null;
  session.members = null;
  session.review = null;
  for (const tab of document.querySelectorAll('section.tab')) tab.hidden = true;
  $('tabs').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = why;
  say('');
}

// ---- tabs -----------------------------------------------------------------------------------

const loaders = {
  status: (preloaded) => loadStatus(preloaded),
  members: () => loadMembers(),
  activity: () => loadActivity(),
  reviews: () => loadReviews(),
  explain: () => loadExplain(),
};

function show(tab, preloaded) {
  for (const section of document.querySelectorAll('section.tab')) section.hidden = section.id !== tab;
  for (const button of document.querySelectorAll('#tabs button[data-tab]')) {
    if (button.dataset.tab === tab) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  say('');
  void guarded(() => loaders[tab](preloaded));
}

// ---- formatting -----------------------------------------------------------------------------

function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} days`;
}

const when = (ts) => (ts ? ts.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
const badge = (text, kind = text) => el('span', { class: `badge ${kind}` }, text);

function table(headings, rows, attrs = {}) {
  return el(
    'table',
    attrs,
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headings.map((h) => el('th', {}, h)),
      ),
    ),
    el('tbody', {}, rows.length === 0 ? el('tr', {}, el('td', { colspan: headings.length, class: 'muted' }, 'none')) : rows),
  );
}

function definitions(pairs) {
  return el(
    'dl',
    {},
    pairs.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]),
  );
}

const PEER_STATES = { up: 'ok', stale: 'warn', down: 'bad', 'never-seen': 'muted' };

/** "+12 ahead" / "−3 behind" / "same" per collection, from a peer's heartbeat and our counts */
function peerVersions(versions) {
  const parts = Object.entries(versions).map(([collection, v]) => {
    if (v.difference === null) return `${collection}: ?`;
    if (v.difference === 0) return `${collection}: same (${v.local})`;
    return `${collection}: ${v.difference > 0 ? `${v.difference} ahead` : `${-v.difference} behind`}`;
  });
  return parts.length > 0 ? parts.map((p) => el('div', { class: 'small' }, p)) : '—';
}

function peerReconciliation(p) {
  const r = p.reconciliation;
  if (!r) return el('span', { class: 'muted' }, 'never');
  if (!r.ok) return el('span', { class: 'error' }, `failed ${when(p.lastReconciliation)}: ${r.error ?? 'unknown error'}`);
  return [when(p.lastReconciliation), el('div', { class: 'small muted' }, `received ${r.received}, sent ${r.sent}`)];
}

const UPSTREAM_STATES = { ok: 'ok', idle: 'ok', 'caught-up': 'ok', polling: 'ok', 'never-polled': 'warn', disabled: 'muted' };

// ---- status ---------------------------------------------------------------------------------

async function loadStatus(preloaded) {
  const s = preloaded ?? (await api('/admin/status'));
  const reindexer = s.backlog?.reindexer;
  const shareback = s.backlog?.shareback;
  const open = s.reviews.counts.open ?? 0;
  replace(
    $('status-body'),
    el(
      'div',
      { class: 'cards' },
      el(
        'div',
        { class: 'card' },
        el('h3', {}, 'Node'),
        definitions([
          ['id', s.node.id],
          ['title', s.node.title],
          ['started', when(s.node.started_at)],
          ['as of', when(s.node.now)],
        ]),
      ),
      el(
        'div',
        { class: 'card' },
        el('h3', {}, 'Share-back'),
        definitions([
          ['open reviews', el('span', { id: 'open-reviews' }, String(open))],
          ['oldest open since', when(s.reviews.oldest_open_at)],
          ['outbox', `${s.outbox.pending} pending · ${s.outbox.sent} sent · ${s.outbox.failed} failed`],
          ['processor backlog', shareback ? `${shareback.submissions} submissions · ${shareback.verdicts} verdicts` : '—'],
        ]),
      ),
      el(
        'div',
        { class: 'card' },
        el('h3', {}, 'Re-indexer'),
        definitions([
          ['queued items', reindexer ? String(reindexer.items) : '—'],
          ['oldest queued', reindexer ? duration(reindexer.oldestAgeMs) : '—'],
          ['jobs', reindexer && reindexer.jobs.length > 0 ? reindexer.jobs.join(', ') : 'none'],
        ]),
      ),
    ),
    el('h3', {}, 'Upstreams'),
    table(
      ['subscription', 'state', 'last success', 'lag', 'objects', 'last error'],
      s.upstreams.map((u) =>
        el(
          'tr',
          { 'data-upstream': u.key },
          el('td', {}, el('strong', {}, u.upstream), el('div', { class: 'small muted' }, `${u.remote} → ${u.local}`)),
          el('td', {}, badge(u.state, UPSTREAM_STATES[u.state] ?? 'bad')),
          el('td', {}, when(u.lastSuccessAt)),
          el('td', {}, duration(u.lagMs)),
          el('td', {}, String(u.objectsIngested)),
          el('td', { class: u.lastError ? 'error' : 'muted' }, u.lastError ? `${u.lastError} (${when(u.lastErrorAt)})` : '—'),
        ),
      ),
      { id: 'upstreams' },
    ),
    el('h3', {}, 'Federation'),
    s.federation
      ? el(
          'div',
          { class: 'card' },
          definitions([
            ['federation', s.federation.name],
            ['NATS', badge(s.federation.connection, s.federation.connection === 'connected' ? 'ok' : 'bad')],
            ...Object.entries(s.federation.counters)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => [k.replaceAll('_', ' '), String(n)]),
          ]),
        )
      : el('p', { class: 'muted' }, 'This node is not federated.'),
    s.federation && s.federation.peers.length > 0
      ? table(
          ['peer', 'state', 'last seen', 'versions', 'last reconciliation', 'leases'],
          s.federation.peers.map((p) =>
            el(
              'tr',
              { 'data-peer': p.id },
              el('td', {}, el('strong', {}, p.id)),
              el('td', {}, badge(p.state, PEER_STATES[p.state] ?? 'bad')),
              el('td', {}, when(p.lastSeen)),
              el('td', {}, peerVersions(p.versions)),
              el('td', {}, peerReconciliation(p)),
              el('td', { class: 'small' }, p.leases.length > 0 ? p.leases.join(', ') : '—'),
            ),
          ),
          { id: 'peers' },
        )
      : null,
  );
}

// ---- members --------------------------------------------------------------------------------

async function members() {
  session.members ??= (await api('/admin/members')).members;
  return session.members;
}

function policyText(p) {
  const parts = [`TLP ≤ ${p.tlp_ceiling.toUpperCase()}`];
  parts.push(p.sectors.length > 0 ? `sectors ${p.sectors.join(', ')}${p.unscoped ? ' + unscoped' : ''}` : 'every sector');
  if (p.min_confidence !== undefined) parts.push(`confidence ≥ ${p.min_confidence}`);
  if (p.min_opinion !== undefined) parts.push(`opinion ≥ ${p.min_opinion}`);
  if (p.allow_types) parts.push(`only ${p.allow_types.join(', ')}`);
  if (p.deny_types) parts.push(`never ${p.deny_types.join(', ')}`);
  parts.push(`attribution: ${p.attribution_consent}`);
  return parts;
}

async function loadMembers() {
  const list = await members();
  replace(
    $('members-body'),
    table(
      ['member', 'signs in with', 'policy', 'grants'],
      list.map((m) =>
        el(
          'tr',
          { 'data-member': m.id },
          el('td', {}, el('strong', {}, m.id), el('div', { class: 'small muted' }, m.name)),
          el('td', {}, m.sign_in.join(', ')),
          el(
            'td',
            {},
            el(
              'ul',
              { class: 'plain' },
              policyText(m.policy).map((t) => el('li', {}, t)),
            ),
          ),
          el(
            'td',
            {},
            el(
              'ul',
              { class: 'plain' },
              m.grants.map((g) =>
                el(
                  'li',
                  {},
                  `${g.api_root}/${g.collection}: ${[g.read ? 'read' : '', g.write ? 'write' : ''].filter(Boolean).join(' + ') || 'none'}`,
                ),
              ),
            ),
          ),
        ),
      ),
      { id: 'members-table' },
    ),
  );
}

// ---- activity chart -------------------------------------------------------------------------

const PALETTE = ['#1f6feb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

async function loadActivity() {
  const bucket = $('activity-bucket').value;
  const a = await api(`/admin/activity?bucket=${encodeURIComponent(bucket)}`);
  replace(
    $('activity-body'),
    chart('Objects in, per upstream or source', a.starts, a.inbound, bucket, 'chart-in'),
    chart('Objects out, per member', a.starts, a.outbound, bucket, 'chart-out'),
  );
}

/** An inline SVG line chart: one line per series, one point per bucket. */
function chart(title, starts, series, bucket, id) {
  const W = 760;
  const H = 240;
  const left = 48;
  const right = 16;
  const top = 16;
  const bottom = 28;
  const max = Math.max(1, ...series.flatMap((s) => s.counts));
  const n = starts.length;
  const x = (i) => left + (n <= 1 ? 0 : (i * (W - left - right)) / (n - 1));
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  const label = (ts) => (bucket === 'day' ? ts.slice(5, 10) : `${ts.slice(5, 10)} ${ts.slice(11, 16)}`);
  const graph = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'chart' },
    svg('title', {}, title),
    svg('line', { x1: left, y1: y(0), x2: W - right, y2: y(0), class: 'axis' }),
    svg('line', { x1: left, y1: top, x2: left, y2: y(0), class: 'axis' }),
    svg('text', { x: left - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, String(max)),
    svg('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'tick' }, '0'),
    [0, Math.floor((n - 1) / 2), n - 1]
      .filter((i, k, all) => i >= 0 && all.indexOf(i) === k)
      .map((i) => svg('text', { x: x(i), y: H - 8, 'text-anchor': 'middle', class: 'tick' }, label(starts[i]))),
    series.map((s, k) =>
      svg(
        'g',
        { 'data-series': s.name },
        svg('polyline', {
          points: s.counts.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '),
          fill: 'none',
          stroke: PALETTE[k % PALETTE.length],
          'stroke-width': 2,
        }),
        s.counts.map((v, i) =>
          v > 0
            ? svg(
                'circle',
                { cx: x(i), cy: y(v), r: 3, fill: PALETTE[k % PALETTE.length] },
                svg('title', {}, `${s.name}: ${v} at ${when(starts[i])}`),
              )
            : null,
        ),
      ),
    ),
  );
  return el(
    'figure',
    { id },
    el('figcaption', {}, title),
    series.length === 0 ? el('p', { class: 'muted' }, 'Nothing in this period.') : graph,
    el(
      'ul',
      { class: 'legend' },
      series.map((s, k) =>
        el(
          'li',
          {},
          svg('svg', { width: 12, height: 12 }, svg('rect', { width: 12, height: 12, fill: PALETTE[k % PALETTE.length] })),
          ` ${s.name}: ${s.total}`,
        ),
      ),
    ),
  );
}

// ---- review queue ---------------------------------------------------------------------------

async function loadReviews() {
  const [{ reviews }, outbox] = await Promise.all([api('/admin/reviews?state=open,failed'), api('/admin/outbox?limit=100')]);
  replace(
    $('reviews-list'),
    table(
      ['opened', 'member', 'object', 'decision', 'findings', ''],
      reviews.map((r) =>
        el(
          'tr',
          { 'data-review': r.id, 'data-object': r.object.id },
          el('td', {}, when(r.opened_at)),
          el('td', {}, r.member),
          el('td', {}, el('code', {}, r.object.id)),
          el('td', {}, badge(r.decision, r.decision === 'hold' ? 'bad' : 'warn'), r.state === 'failed' ? badge('failed', 'bad') : null),
          el('td', {}, [...new Set(r.findings.map((f) => f.kind))].join(', ')),
          el('td', {}, el('button', { type: 'button', onclick: () => guarded(() => openReview(r.id)) }, 'Review')),
        ),
      ),
      { id: 'reviews-table' },
    ),
  );
  if (session.review && !reviews.some((r) => r.id === session.review.id)) {
    session.review = null;
    replace($('review-detail'));
  }
  replace(
    $('outbox-body'),
    el('p', { id: 'outbox-counts' }, `${outbox.counts.pending} pending · ${outbox.counts.sent} sent · ${outbox.counts.failed} failed`),
    table(
      ['#', 'member', 'to', 'object', 'state', 'attempts', 'settled', 'last error'],
      outbox.entries.map((e) =>
        el(
          'tr',
          { 'data-outbox': e.id, 'data-state': e.state },
          el('td', {}, String(e.seq)),
          el('td', {}, e.member),
          el('td', {}, `${e.upstream}/${e.collection}`),
          el('td', {}, el('code', {}, e.id), el('div', { class: 'small muted' }, e.version)),
          el('td', {}, badge(e.state, e.state === 'sent' ? 'ok' : e.state === 'failed' ? 'bad' : 'warn')),
          el('td', {}, String(e.attempts)),
          el('td', {}, when(e.settled_at)),
          // a sent entry's note says what happened to it; only an unsent entry's is an error
          el('td', { class: e.state === 'sent' ? 'muted' : 'error' }, e.last_error ?? ''),
        ),
      ),
      { id: 'outbox-table' },
    ),
  );
}

/** The steps of a finding path: `description`, `external_references[0].url`, `extensions["x-y"].z`. */
function pathSteps(path) {
  const steps = [];
  const re = /\.?(?:\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([A-Za-z0-9_$-]+))/y;
  let m;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    steps.push(m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? JSON.parse(m[2]) : m[3]);
  }
  return steps;
}

function valueAt(object, path) {
  let v = object;
  for (const step of pathSteps(path)) v = v === null || typeof v !== 'object' ? undefined : v[step];
  return v;
}

/** A field's text with each flagged span in a <mark> (spans sorted; overlapping ones merged). */
function highlighted(text, findings) {
  const spans = findings.map((f) => [Math.max(0, f.start), Math.min(text.length, f.end), f.kind]).sort((a, b) => a[0] - b[0]);
  const out = [];
  let at = 0;
  for (const [start, end, kind] of spans) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) out.push(text.slice(at, from));
    out.push(el('mark', { title: kind, 'data-kind': kind }, text.slice(from, end)));
    at = end;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

async function openReview(id) {
  const r = await api(`/admin/reviews/${encodeURIComponent(id)}`);
  session.review = r;
  const byPath = new Map();
  for (const f of r.findings) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const editor = el('textarea', { id: 'review-edit', rows: 16, spellcheck: 'false', hidden: true });
  editor.value = JSON.stringify(r.submitted, null, 2);
  const note = el('input', { id: 'review-note', placeholder: 'note (optional)', size: 50 });
  const decide = (verdict, edited) =>
    guarded(async () => {
      const body = { ...(note.value.trim() ? { note: note.value.trim() } : {}), ...(edited ? { edited } : {}) };
      await api(`/admin/reviews/${encodeURIComponent(r.id)}/${verdict}`, { method: 'POST', body: JSON.stringify(body) });
      say(`${verdict === 'approve' ? 'Approved' : 'Rejected'} ${r.object.id}: the share-back processor applies it now.`, 'ok');
      session.review = null;
      replace($('review-detail'));
      await loadReviews();
    });
  const approveEdited = el(
    'button',
    {
      type: 'button',
      id: 'review-approve-edited',
      hidden: true,
      onclick: () => {
        let edited;
        try {
          edited = JSON.parse(editor.value);
        } catch (error) {
          return say(`The edited object is not valid JSON: ${error.message}`, 'error');
        }
        void decide('approve', edited);
      },
    },
    'Approve the edited object',
  );
  replace(
    $('review-detail'),
    el(
      'div',
      { class: 'card', id: 'review', 'data-review': r.id },
      el('h3', {}, `${r.object.type} from ${r.member}`),
      definitions([
        ['object', el('code', {}, r.object.id)],
        ['version', r.object.version],
        [
          'decision',
          r.decision === 'hold' ? `held whole${r.because ? `: ${r.because}` : ''}` : `released without ${r.withheld.join(', ')}`,
        ],
        ['opened', when(r.opened_at)],
      ]),
      el('h4', {}, 'Flagged'),
      el(
        'ul',
        { class: 'findings' },
        [...byPath].map(([path, findings]) => {
          const value = r.submitted ? valueAt(r.submitted, path) : undefined;
          return el(
            'li',
            {},
            el('code', {}, path),
            ' ',
            findings.map((f) => badge(f.kind, 'warn')),
            el(
              'blockquote',
              {},
              typeof value === 'string' ? highlighted(value, findings) : findings.map((f) => el('mark', {}, f.text ?? '(not text)')),
            ),
          );
        }),
      ),
      r.submitted ? null : el('p', { class: 'error' }, 'The submitted object is no longer in the inbox.'),
      editor,
      el(
        'div',
        { class: 'actions' },
        note,
        el('button', { type: 'button', id: 'review-approve', onclick: () => decide('approve') }, 'Approve'),
        el(
          'button',
          {
            type: 'button',
            id: 'review-edit-open',
            class: 'quiet',
            disabled: !r.submitted,
            onclick: () => {
              editor.hidden = false;
              approveEdited.hidden = false;
              editor.focus();
            },
          },
          'Edit…',
        ),
        approveEdited,
        el('button', { type: 'button', id: 'review-reject', class: 'danger', onclick: () => decide('reject') }, 'Reject'),
      ),
    ),
  );
}

// ---- policy explain -------------------------------------------------------------------------

async function loadExplain() {
  const select = $('explain-member');
  if (select.options.length > 0) return;
  const list = await members();
  replace(
    select,
    list.map((m) => el('option', { value: m.id }, `${m.id} (${m.name})`)),
  );
}

async function explain(event) {
  event.preventDefault();
  const q = new URLSearchParams({ member: $('explain-member').value, object: $('explain-object').value.trim() });
  const collection = $('explain-collection').value.trim();
  if (collection) q.set('collection', collection);
  const result = await api(`/admin/explain?${q}`);
  replace(
    $('explain-body'),
    result.collections.length === 0 ? el('p', { class: 'muted' }, 'No configured collection holds this object.') : null,
    result.collections.map((c) => {
      const verdict = !c.allowed
        ? badge('denied', 'bad')
        : c.redacted?.length
          ? badge(`allowed, redacted: ${c.redacted.join(', ')}`, 'warn')
          : badge('allowed', 'ok');
      return el(
        'div',
        { class: 'card explanation' },
        el('h3', {}, c.collection, c.version ? el('span', { class: 'muted small' }, ` latest version ${c.version}`) : null, ' ', verdict),
        c.attributes
          ? definitions(
              Object.entries(c.attributes).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') || 'none' : v === null ? '—' : String(v)]),
            )
          : null,
        table(
          ['rule', '', 'because'],
          c.rules.map((r) =>
            el(
              'tr',
              {},
              el('td', {}, r.rule),
              el('td', {}, badge(r.pass ? 'pass' : 'fail', r.pass ? 'ok' : 'bad')),
              el('td', {}, r.because),
            ),
          ),
        ),
      );
    }),
  );
}

// ---- wiring ---------------------------------------------------------------------------------

$('login-form').addEventListener('submit', (event) => void signIn(event));
$('sign-out').addEventListener('click', () => signOut());
for (const button of document.querySelectorAll('#tabs button[data-tab]')) button.addEventListener('click', () => show(button.dataset.tab));
$('status-refresh').addEventListener('click', () => void guarded(() => loadStatus()));
$('reviews-refresh').addEventListener('click', () => void guarded(() => loadReviews()));
$('activity-bucket').addEventListener('change', () => void guarded(() => loadActivity()));
$('explain-form').addEventListener('submit', (event) => void guarded(() => explain(event)));
