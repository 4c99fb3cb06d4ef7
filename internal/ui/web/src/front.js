// The front door: the landing dashboard (what the graph holds and what
// needs a responder's attention first), the typeahead on the search box,
// and the inventory download. Every row opens the lineage view through
// open(ref, dir). Kept apart from main.js: main.js only calls
// initFront() and showDashboard().
import { APIError, gql, saveBlob } from './api.js';
import { h, clear, plural, shortDigest, breakable } from './dom.js';
import { KINDS } from './view.js';

const DASHBOARD = `query Dashboard {
  dashboard {
    stats { nodes edges documents nodeKinds { kind count } }
    verification { kind status count }
    weakestProduction { deployment { id name: displayName } status weakNodes reached weakness }
    activeAdvisories { advisory { id name } severity summary affects { id kind name } reaches { id kind name } total }
    unverifiedProductionModels { node { id name: displayName } identity { status reason } environments state }
    recentDocuments { document { document type source ingestedAt status } describes { id kind name } }
    truncated
  }
}`;

const SEARCH = `query Search($text: String!, $first: Int) {
  search(text: $text, first: $first) { items { node { id kind name: displayName } match matched ref } totalCount }
}`;

const NODES = `query Nodes($kind: NodeKind!, $filter: NodeFilterInput, $first: Int, $after: String) {
  nodes(kind: $kind, filter: $filter, first: $first, after: $after) {
    items { node { id kind name: displayName keys } identity { status verified reason } environments state reachedBy { name } lastIngested }
    pageInfo { endCursor hasNextPage }
  }
}`;

const INVENTORY_KINDS = ['Model', 'Dataset', 'Deployment', 'Advisory', 'Package', 'Identity', 'Document', 'TrainingRun', 'Source'];

let ctx = null; // { open(ref, dir), explain(err) }

function badge(status) {
  return h('span', { class: `badge st-${status}` }, status);
}

function kindBadge(kind) {
  const k = KINDS[kind];
  return h('span', { class: 'badge kind', style: { background: k ? k.color : '#64748b' } }, kind);
}

function panel(id, title, body, more) {
  return h('section', { class: 'dpanel', dataset: { panel: id } }, h('h2', null, title, more ? h('span', { class: 'more' }, more) : null), body);
}

// row is one clickable line opening the lineage of ref.
function row(ref, dir, ...cells) {
  const impact = dir === 'impact';
  if (impact) dir = 'down';
  const el = h('li', { class: 'drow', tabindex: '0', role: 'link', dataset: { ref, dir } }, ...cells);
  const open = () => ctx.open(ref, dir, impact);
  el.addEventListener('click', open);
  el.addEventListener('keydown', (e) => e.key === 'Enter' && open());
  return el;
}

function list(rows, empty) {
  return rows.length ? h('ul', { class: 'drows' }, rows) : h('p', { class: 'dempty' }, empty);
}

function ago(t) {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

function render(el, d) {
  const counts = h('div', { class: 'counts' },
    d.stats.nodeKinds.map((k) => h('div', { class: 'count', dataset: { kind: k.kind } }, h('b', null, k.count.toLocaleString('en-US')), ' ', kindBadge(k.kind))),
    h('div', { class: 'count' }, h('b', null, d.stats.documents.toLocaleString('en-US')), ' documents'));
  const byKind = {};
  for (const v of d.verification) (byKind[v.kind] ||= []).push(v);
  const verification = h('table', { class: 'vtable' },
    Object.entries(byKind).map(([kind, vs]) => h('tr', null, h('td', null, kindBadge(kind)),
      h('td', null, vs.map((v) => h('span', { class: 'vc' }, badge(v.status), ' ', String(v.count)))))));
  const weakest = list(d.weakestProduction.map((w) => row(w.deployment.id, 'up',
    badge(w.status), h('span', { class: 'name' }, breakable(w.deployment.name)),
    h('span', { class: 'meta' }, `${w.weakNodes} of ${plural(w.reached, 'upstream node', 'upstream nodes')} not verified`),
    w.weakness ? h('span', { class: 'why' }, w.weakness) : null)), 'No production deployment.');
  // An advisory opens the impact view of what it names (the lineage
  // view walks supply-chain edges, which an advisory has none of).
  const advisories = list(d.activeAdvisories.map((a) => row(a.affects.length ? a.affects[0].id : a.advisory.id, a.affects.length ? 'impact' : 'both',
    h('span', { class: 'badge sev' }, a.severity || 'advisory'), h('span', { class: 'name' }, a.advisory.name),
    h('span', { class: 'meta' }, `reaches ${plural(a.total, 'model or deployment', 'models and deployments')}`),
    h('span', { class: 'why' }, `affects ${a.affects.map((r) => r.name).join(', ')}; reaches ${a.reaches.map((r) => r.name).join(', ')}`))), 'No active advisory.');
  const unverified = list(d.unverifiedProductionModels.map((m) => row(m.node.id, 'both',
    badge(m.identity.status), h('span', { class: 'name' }, breakable(m.node.name)),
    h('span', { class: 'meta' }, (m.environments || []).join(', ')),
    m.identity.reason ? h('span', { class: 'why' }, m.identity.reason) : null)), 'Every model in production is verified.');
  const recent = list(d.recentDocuments.filter((r) => r.describes.length).map((r) => row(r.describes[0].id, 'both',
    badge(r.document.status), h('span', { class: 'name' }, `${r.document.type} ${shortDigest(r.document.document)}`),
    h('span', { class: 'meta' }, ago(r.document.ingestedAt)),
    h('span', { class: 'why' }, `about ${r.describes.map((x) => x.name).join(', ')}${r.document.source ? ` · from ${r.document.source}` : ''}`))), 'Nothing ingested yet.');
  clear(el,
    h('div', { class: 'dhead' }, h('h1', null, 'What the graph holds'),
      h('p', null, 'Search any fragment above (a name without its version, a path, part of a purl or digest, a signer). Click a row to open its lineage.'),
      d.truncated ? h('p', { class: 'warn' }, 'Some panels stopped at their bound; use the inventory for the full lists.') : null),
    h('div', { class: 'dgrid' },
      panel('counts', 'Nodes by kind', counts),
      panel('verification', 'Own evidence by status', verification),
      panel('weakest', 'Production deployments, weakest evidence first', weakest),
      panel('advisories', 'Active advisories and what they reach', advisories),
      panel('unverified', 'Models in production that are not verified', unverified),
      panel('recent', 'Recently ingested documents', recent),
      panel('inventory', 'Inventory', inventoryForm())));
}

// ---------- inventory download ----------

function inventoryForm() {
  const kind = h('select', { id: 'inv-kind', 'aria-label': 'Kind' }, INVENTORY_KINDS.map((k) => h('option', { value: k }, k)));
  const status = h('select', { id: 'inv-status', 'aria-label': 'Verification status' },
    ['', 'verified', 'unverified', 'failed', 'unverifiable', 'unsigned'].map((s) => h('option', { value: s }, s || 'any status')));
  const env = h('input', { id: 'inv-env', placeholder: 'environment', 'aria-label': 'Environment', size: '12' });
  const state = h('select', { id: 'inv-state', 'aria-label': 'State' }, ['', 'active', 'withdrawn'].map((s) => h('option', { value: s }, s || 'any state')));
  const note = h('span', { class: 'meta', id: 'inv-note' });
  const run = async (format) => {
    const filter = {};
    if (status.value) filter.status = status.value;
    if (env.value.trim()) filter.environment = env.value.trim();
    if (state.value) filter.state = state.value;
    note.textContent = 'Listing…';
    try {
      const items = await inventory(kind.value, filter);
      const name = `modelgraph-${kind.value.toLowerCase()}s.${format}`;
      const body = format === 'json' ? JSON.stringify(items, null, 2) : toCSV(items);
      saveBlob(new Blob([body], { type: format === 'json' ? 'application/json' : 'text/csv' }), name);
      note.textContent = `${plural(items.length, 'node', 'nodes')} saved as ${name}`;
    } catch (err) {
      note.textContent = ctx.explain(err);
    }
  };
  return h('div', { class: 'inv' }, kind, status, state, env,
    h('button', { type: 'button', id: 'inv-csv', onclick: () => run('csv') }, 'CSV'),
    h('button', { type: 'button', id: 'inv-json', onclick: () => run('json') }, 'JSON'), note);
}

export async function inventory(kind, filter, max = 100_000) {
  const out = [];
  let after = null;
  for (;;) {
    const r = (await gql(NODES, { kind, filter, first: 1000, after })).nodes;
    out.push(...r.items);
    if (!r.pageInfo.hasNextPage || out.length >= max) return out;
    after = r.pageInfo.endCursor;
  }
}

function csvCell(v) {
  const s = String(v ?? '');
  return /[",\n\r]/.test(s) || /^[=+\-@\t]/.test(s) ? `"${(/^[=+\-@\t]/.test(s) ? `'${s}` : s).replace(/"/g, '""')}"` : s;
}

export function toCSV(items) {
  const head = ['id', 'kind', 'name', 'keys', 'status', 'verified', 'reason', 'environments', 'state', 'reachedBy', 'lastIngested'];
  const lines = [head.join(',')];
  for (const it of items) {
    lines.push([it.node.id, it.node.kind, it.node.name, (it.node.keys || []).join(' '), it.identity.status, it.identity.verified,
      it.identity.reason, (it.environments || []).join(' '), it.state, it.reachedBy && it.reachedBy.name, it.lastIngested].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

// ---------- dashboard ----------

let loading = null;

export async function showDashboard() {
  const el = document.getElementById('dash');
  if (!el || loading) return loading;
  el.setAttribute('aria-busy', 'true');
  loading = (async () => {
    try {
      render(el, (await gql(DASHBOARD)).dashboard);
    } catch (err) {
      clear(el, h('p', { class: 'dempty err' }, `Dashboard: ${ctx.explain(err)}`));
    } finally {
      el.removeAttribute('aria-busy');
      loading = null;
    }
  })();
  return loading;
}

// ---------- typeahead ----------

function attachTypeahead(input, form) {
  const ul = h('ul', { id: 'suggest', role: 'listbox', 'aria-label': 'Suggestions', hidden: true });
  form.append(ul);
  let seq = 0;
  let timer = null;
  const hide = () => {
    ul.hidden = true;
  };
  const pick = (ref) => {
    hide();
    ctx.open(ref, 'both');
  };
  const show = (text, items) => {
    clear(ul);
    for (const it of items) {
      const li = h('li', { role: 'option', tabindex: '0', dataset: { ref: it.node.id } },
        kindBadge(it.node.kind), h('span', null, it.node.name), h('span', { class: `match m-${it.match}` }, it.match),
        h('span', { class: 'key mono' }, it.ref));
      li.addEventListener('mousedown', (e) => e.preventDefault());
      li.addEventListener('click', () => pick(it.node.id));
      li.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') pick(it.node.id);
        if (e.key === 'ArrowDown' && li.nextElementSibling) li.nextElementSibling.focus();
        if (e.key === 'ArrowUp') (li.previousElementSibling || input).focus();
        if (e.key === 'Escape') {
          hide();
          input.focus();
        }
      });
      ul.append(li);
    }
    ul.hidden = !items.length;
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) {
      hide();
      return;
    }
    timer = setTimeout(async () => {
      const mine = ++seq;
      try {
        const r = (await gql(SEARCH, { text, first: 8 })).search;
        if (mine === seq && input.value.trim() === text) show(text, r.items);
      } catch (err) {
        if (!(err instanceof APIError)) throw err;
        hide();
      }
    }, 120);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !ul.hidden) {
      e.preventDefault();
      const first = ul.querySelector('li');
      if (first) first.focus();
    }
    if (e.key === 'Escape') hide();
  });
  form.addEventListener('submit', hide);
  document.addEventListener('click', (e) => {
    if (!form.contains(e.target)) hide();
  });
}

// suggestionsOf returns the "did you mean" references a NOT_FOUND answer
// carries.
export function suggestionsOf(err) {
  const first = err && err.errors && err.errors[0];
  return (first && first.extensions && first.extensions.suggestions) || [];
}

export function initFront(options) {
  ctx = options;
  const canvas = document.getElementById('canvas');
  if (canvas && !document.getElementById('dash')) {
    canvas.append(h('section', { id: 'dash', 'aria-label': 'Dashboard' }));
    canvas.classList.add('has-dash');
  }
  attachTypeahead(document.getElementById('q'), document.getElementById('search'));
}
