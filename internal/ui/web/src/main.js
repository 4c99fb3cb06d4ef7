// modelgraph's lineage page: find a node, see its supply chain upstream and
// downstream, read the evidence behind every node and edge, and list the
// deployments an incident reaches. State lives in the URL fragment
// (#ref=…&dir=…&depth=…&impact=1) so a view can be shared as a link.
import { APIError, download, gql, saveBlob, setToken, token } from './api.js';
import { h, clear, shortDigest, plural, breakable } from './dom.js';
import { Lineage, PAGE, STATUS_RANK, build, edgeKey, expand, flow, fold } from './model.js';
import * as Q from './queries.js';
import { KINDS, createView, renderLegend } from './view.js';
import { MAX_ALERTS, watchAlerts } from './alerts.js';
import { initFront, showDashboard, suggestionsOf } from './front.js';

const $ = (id) => document.getElementById(id);
const MAX_DEPTH = 64;

const app = {
  lin: null,
  model: null,
  view: null,
  params: null,
  selected: null,
  impact: null, // {root, rows, truncated, depthLimited, total}
  impactContext: false, // draw the lineage off the impact paths, dimmed
  seq: 0,
  ctl: null,
};

// ---------- status bar ----------

function status(parts, { busy = false, error = null } = {}) {
  const el = $('status');
  clear(el);
  if (busy) el.append(h('span', { class: 'busy' }, busy === true ? 'Loading…' : busy));
  if (error) el.append(h('span', { class: 'err' }, error));
  for (const p of parts || []) if (p) el.append(h('span', null, p));
}

function setState(s) {
  document.body.dataset.state = s;
}

function explain(err) {
  if (err instanceof APIError && err.unauthenticated) {
    openToken();
    return `${err.message}. Paste a token with the read scope (Token, top right).`;
  }
  return err && err.message ? err.message : String(err);
}

// ---------- URL state ----------

function readParams() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ''));
  const depth = Math.max(1, Math.min(MAX_DEPTH, parseInt(p.get('depth') || '6', 10) || 6));
  const dir = ['up', 'down', 'both'].includes(p.get('dir')) ? p.get('dir') : 'both';
  return { ref: p.get('ref') || '', dir, depth, files: p.get('files') === '1', impact: p.get('impact') === '1' };
}

function go(changes) {
  const p = { ...readParams(), ...changes };
  const q = new URLSearchParams();
  if (p.ref) q.set('ref', p.ref);
  q.set('dir', p.dir);
  q.set('depth', String(p.depth));
  if (p.files) q.set('files', '1');
  if (p.impact) q.set('impact', '1');
  const hash = `#${q.toString()}`;
  if (location.hash === hash) route();
  else location.hash = hash;
}

function syncControls(p) {
  $('dir').value = p.dir;
  $('depth').value = String(p.depth);
  $('files').checked = p.files;
  $('files').disabled = p.dir === 'down';
}

// ---------- search ----------

async function search(text) {
  const ref = text.trim();
  hidePicks();
  if (!ref) return;
  status([], { busy: `Resolving ${ref}…` });
  let nodes;
  try {
    nodes = (await gql(Q.RESOLVE, { ref })).resolve;
  } catch (err) {
    if (err instanceof APIError && err.notFound) {
      const did = suggestionsOf(err);
      if (did.length) {
        showPicks(ref, did.map((x) => ({ id: x.ref, kind: x.kind, name: x.name, keys: [x.ref] })), `Nothing matches “${ref}”. Did you mean:`);
        status([], { error: `Nothing matches ${ref}: pick a suggestion.` });
        return;
      }
      status([], { error: `Nothing matches ${ref}. Try a digest (sha256:…), a purl, an hf:// URI, a dataset URI or an exact name.` });
    } else {
      status([], { error: explain(err) });
    }
    return;
  }
  if (nodes.length === 1) {
    go({ ref: nodes[0].id, impact: false });
    return;
  }
  showPicks(ref, nodes);
  status([`${nodes.length} nodes match ${ref}: pick one.`]);
}

function showPicks(ref, nodes, head) {
  const ul = $('picks');
  clear(ul, h('li', { class: 'head', role: 'presentation' }, head || `${nodes.length} nodes match “${ref}”`));
  for (const n of nodes) {
    const k = KINDS[n.kind];
    const li = h('li', { role: 'option', tabindex: '0', dataset: { id: n.id } },
      h('span', { class: 'badge kind', style: { background: k ? k.color : '#64748b' } }, n.kind),
      h('span', null, n.name || n.id),
      h('span', { class: 'key mono' }, (n.keys || []).join('  ·  ')));
    const pick = () => {
      hidePicks();
      go({ ref: n.id, impact: false });
    };
    li.addEventListener('click', pick);
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') pick();
      if (e.key === 'ArrowDown' && li.nextElementSibling) li.nextElementSibling.focus();
      if (e.key === 'ArrowUp' && li.previousElementSibling && li.previousElementSibling.tabIndex >= 0) li.previousElementSibling.focus();
      if (e.key === 'Escape') hidePicks();
    });
    ul.append(li);
  }
  ul.hidden = false;
  const first = ul.querySelector('li[role="option"]');
  if (first) first.focus();
}

function hidePicks() {
  $('picks').hidden = true;
}

// ---------- lineage ----------

async function route() {
  const p = readParams();
  app.params = p;
  syncControls(p);
  if (!p.ref) {
    setState('idle');
    showDashboard();
    return;
  }
  const seq = ++app.seq;
  if (app.ctl) app.ctl.abort();
  app.ctl = new AbortController();
  const { signal } = app.ctl;
  setState('loading');
  status([], { busy: 'Walking the lineage…' });
  try {
    const vars = { ref: p.ref, depth: p.depth, first: Q.PAGE };
    if (p.dir !== 'down') vars.files = p.files;
    const data = await gql(Q.lineage(p.dir), vars, { signal });
    if (seq !== app.seq) return;
    const lin = new Lineage();
    const parts = [];
    for (const [name, label] of [['up', 'upstream'], ['down', 'downstream']]) {
      const l = data[name];
      if (!l) continue;
      for (const r of l.roots) lin.addRoot(r);
      lin.addReached(l.reached);
      let s = `${label}: ${plural(l.totalCount, 'node', 'nodes')}`;
      if (l.pageInfo.hasNextPage) s += ` (first ${l.reached.length.toLocaleString('en-US')} drawn)`;
      if (l.truncated) s += ', walk limit hit';
      if (l.depthLimited) s += `, more beyond depth ${p.depth}`;
      parts.push(s);
    }
    app.lin = lin;
    app.impact = null;
    app.partsLineage = parts;
    await addCrossEdges(lin, signal, seq);
    if (seq !== app.seq) return;
    redraw();
    const root = [...lin.roots][0];
    const rn = lin.nodes.get(root);
    if (rn && document.activeElement !== $('q')) $('q').value = rn.name || rn.id;
    if (lin.roots.size > 1) parts.unshift(`${lin.roots.size} start nodes`);
    select(root);
    setState('ready');
    status(summaryParts());
    if (p.impact) await runImpact(root, seq, signal);
  } catch (err) {
    if (err.name === 'AbortError' || seq !== app.seq) return;
    setState('error');
    status([], { error: explain(err) });
  }
}

// addCrossEdges fetches the incident edges of the drawn nodes so that
// links the walk's tree left out are drawn too, and the advisories that
// affect what is drawn.
async function addCrossEdges(lin, signal, seq) {
  const m = build(lin);
  const ids = m.nodes.map((n) => n.id).slice(0, Q.CROSS_EDGE_NODES);
  if (!ids.length) return;
  const { query, variables } = Q.edges(ids);
  let data;
  try {
    data = await gql(query, variables, { signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    // The lineage itself is complete; missing cross links are a lesser loss.
    app.crossEdgeError = explain(err);
    return;
  }
  if (seq !== app.seq) return;
  app.crossEdgeError = null;
  const lineageKinds = new Set(['TRAINED_ON', 'DERIVED_FROM', 'CONTAINS', 'DEPLOYED_AS', 'DEPENDS_ON', 'BUILT_FROM', 'PRODUCED_BY', 'USES']);
  for (const key of Object.keys(data)) {
    for (const d of data[key] || []) {
      for (const e of d.edges) {
        const known = lin.nodes.has(e.from.id) && lin.nodes.has(e.to.id);
        if (known && lineageKinds.has(e.kind)) {
          lin.addEdge({ from: e.from.id, kind: e.kind, to: e.to.id, status: e.status });
        } else if (e.kind === 'AFFECTS' && lin.nodes.has(e.to.id)) {
          if (!lin.nodes.has(e.from.id)) lin.addNode({ id: e.from.id, kind: e.from.kind, name: e.from.name });
          lin.addEdge({ from: e.from.id, kind: e.kind, to: e.to.id, status: e.status });
        }
      }
    }
  }
}

function summaryParts() {
  const m = app.model;
  const parts = [...(app.partsLineage || [])];
  if (m) {
    let drawn = `${plural(m.nodes.length, 'node', 'nodes')} and ${plural(m.edges.length, 'edge', 'edges')} drawn`;
    if (m.groups.length) drawn += `, ${plural(m.groups.length, 'group', 'groups')} folded (click to expand)`;
    parts.unshift(drawn);
  }
  if (app.crossEdgeError) parts.push(`cross links not drawn: ${app.crossEdgeError}`);
  return parts;
}

function redraw() {
  app.model = build(app.lin);
  app.view.draw(app.model, app.lin);
  if (app.selected && app.view.cy.getElementById(app.selected).nonempty()) app.view.cy.getElementById(app.selected).select();
  if (app.impact) highlightImpact();
  else app.view.layout();
}

function select(id) {
  const cy = app.view.cy;
  cy.elements().unselect();
  const el = cy.getElementById(id);
  if (el.nonempty()) el.select();
  app.selected = id;
  const n = app.lin && app.lin.nodes.get(id);
  const btn = $('impact-btn');
  btn.disabled = !n;
  btn.textContent = n ? `Impact of ${trim(n.name || n.id, 28)}` : 'Impact';
  if (n) showDetails(id);
}

function trim(s, max) {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

// ---------- details ----------

function tab(name) {
  for (const b of document.querySelectorAll('#tabs button')) {
    const on = b.dataset.pane === name;
    b.setAttribute('aria-selected', String(on));
    $(b.dataset.pane).hidden = !on;
  }
}

function badge(st) {
  return h('span', { class: `badge ${st || 'unsigned'}` }, st || 'unknown');
}

function kindBadge(kind) {
  const k = KINDS[kind];
  return h('span', { class: 'badge kind', style: { background: k ? k.color : '#64748b' } }, kind);
}

function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function evidenceCard(ev) {
  const dl = h('dl', null,
    h('dt', null, 'document'), h('dd', { class: 'mono' }, ev.document),
    ev.predicateType && [h('dt', null, 'predicate'), h('dd', null, ev.predicateType)],
    ev.role && [h('dt', null, 'role'), h('dd', null, ev.role)],
    ev.source && [h('dt', null, 'source'), h('dd', null, ev.source)],
    h('dt', null, 'ingested'), h('dd', null, fmtTime(ev.ingestedAt)));
  if (!ev.signers.length) dl.append(h('dt', null, 'signers'), h('dd', null, 'none: an unsigned claim'));
  for (const s of ev.signers) {
    const who = [s.identity, s.issuer && `issuer ${s.issuer}`, s.keyId && `key ${s.keyId}`].filter(Boolean).join(' · ') || '(no identity)';
    dl.append(h('dt', null, `signer (${s.method})`), h('dd', null, badge(s.status), ' ', who, s.reason && h('div', { class: 'reason' }, s.reason), s.scope && h('div', { class: 'reason' }, `trusted only for ${s.scope}`)));
  }
  return h('div', { class: 'doc', dataset: { document: ev.document } },
    h('div', { class: 'top' }, h('span', { class: 'type' }, ev.type), badge(ev.status)), dl);
}

// postureSection shows a model's or deployment's posture: a level badge
// and the "what is missing" panel (the controls that keep it from the next
// level, each with why and what would fix it), then every control.
function postureSection(id) {
  const sec = h('section', { id: 'posture', class: 'posture', 'aria-label': 'MLSecOps posture' }, h('p', { class: 'hint' }, 'Loading posture…'));
  gql(Q.POSTURE, { ref: id }).then((res) => {
    if (app.selected !== id) return;
    const p = res.posture;
    const byId = new Map(p.controls.map((c) => [c.id, c]));
    const row = (c) => h('li', { class: `control ${c.result}`, dataset: { control: c.id } },
      h('div', { class: 'top' }, h('span', { class: `result ${c.result}` }, c.result), ' ', h('b', null, c.title),
        c.level ? h('span', { class: 'lvl' }, `L${c.level}`) : null),
      h('div', { class: 'why' }, c.message),
      c.fix && h('div', { class: 'fix' }, 'Fix: ', c.fix));
    const missing = p.missing.map((m) => byId.get(m)).filter(Boolean);
    const later = p.controls.filter((c) => (c.result === 'failed' || c.result === 'unknown') && !p.missing.includes(c.id));
    clear(sec,
      h('div', { class: 'posture-head' },
        h('span', { class: `level-badge L${p.level}`, id: 'posture-level', title: 'MLSecOps posture level (docs/posture.md)' }, p.levelName),
        h('span', null, `${plural(p.passed, 'control', 'controls')} passed, ${p.failed} failed, ${p.unknown} unknown`,
          p.model ? ` · judged with the model it serves, ${p.model.name}` : '')),
      missing.length
        ? [h('h3', null, `What is missing for L${p.level + 1}`), h('ul', { class: 'controls missing', id: 'posture-missing' }, missing.map(row))]
        : h('p', { class: 'hint', id: 'posture-missing' }, 'Every control of every level passed.'),
      later.length ? [h('h3', null, 'Also not passing (higher levels)'), h('ul', { class: 'controls later', id: 'posture-later' }, later.map(row))] : null,
      h('details', null, h('summary', null, `All controls (${p.controls.length})`),
        h('ul', { class: 'controls all' }, p.controls.filter((c) => c.result !== 'not-applicable').map(row))));
  }).catch((err) => {
    if (app.selected === id) clear(sec, h('div', { class: 'error' }, `Posture: ${explain(err)}`));
  });
  return sec;
}

async function showDetails(id) {
  tabIfNotImpact();
  const pane = $('details');
  const n = app.lin.nodes.get(id);
  clear(pane, h('h2', null, n ? n.name || n.id : id), h('p', { class: 'hint' }, 'Loading evidence…'));
  let d;
  try {
    const res = await gql(Q.DETAILS, { ref: id });
    d = res.lookup[0];
  } catch (err) {
    if (app.selected !== id) return;
    clear(pane, h('h2', null, n ? n.name || n.id : id), h('div', { class: 'error' }, explain(err)));
    return;
  }
  if (app.selected !== id || !d) return;
  const node = d.node;
  const evByDoc = new Map();
  for (const ev of d.identity.describedBy) evByDoc.set(ev.document, ev);
  for (const e of d.edges) for (const ev of e.evidence) if (!evByDoc.has(ev.document)) evByDoc.set(ev.document, ev);
  const docLabel = (dg) => {
    const ev = evByDoc.get(dg);
    return h('div', { class: 'mono', title: dg }, ev ? `${ev.type} ${shortDigest(dg)}` : shortDigest(dg));
  };

  const actions = h('div', { class: 'actions' });
  if (!app.lin.roots.has(node.id)) {
    actions.append(h('button', { onclick: () => go({ ref: node.id, impact: false }) }, 'Lineage from here'));
  }
  actions.append(h('button', { class: 'primary', onclick: () => startImpact(node.id) }, 'Impact'));
  if (node.kind === 'Model' || node.kind === 'Deployment') {
    const rel = `../v1/aibom/${encodeURIComponent(node.id)}?format=json`;
    const file = `${(node.name || node.id).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80)}.cdx.json`;
    const a = h('a', { class: 'btn', href: rel, download: file, id: 'aibom-link' }, 'Download AI-BOM');
    a.addEventListener('click', async (e) => {
      e.preventDefault();
      try {
        await download(rel, file);
      } catch (err) {
        status([], { error: `AI-BOM export: ${explain(err)}` });
      }
    });
    actions.append(a);
  }

  const idn = d.identity;
  const attrs = h('table', { class: 'attrs' }, h('thead', null, h('tr', null, h('th', null, 'attribute'), h('th', null, 'value'), h('th', null, 'claimed by'))),
    h('tbody', null, node.attrs.map((a) => h('tr', null, h('td', null, a.name), h('td', null, a.value), h('td', { class: 'by' }, a.documents.map(docLabel))))));

  const edgeList = h('div', null, d.edges.slice(0, 60).map((e) => {
    const out = e.from.id === node.id;
    const other = out ? e.to : e.from;
    return h('div', { class: 'edge-row' },
      h('span', { class: 'ek' }, out ? `${e.kind} →` : `← ${e.kind}`),
      kindBadge(other.kind),
      h('button', { class: 'link', onclick: () => (app.lin.nodes.has(other.id) ? select(other.id) : go({ ref: other.id, impact: false })) }, other.name || other.id),
      badge(e.status));
  }));
  if (d.edgesTotal > 60) edgeList.append(h('p', { class: 'hint' }, `… and ${(d.edgesTotal - 60).toLocaleString('en-US')} more`));

  const described = idn.describedBy;
  const others = node.documents.filter((dg) => !described.some((ev) => ev.document === dg));
  clear(pane,
    h('div', null, kindBadge(node.kind), ' ', badge(idn.status)),
    h('h2', null, node.name || node.id),
    h('div', { class: 'sub mono' }, `id ${node.id}`),
    idn.reason && h('p', { class: 'reason' }, idn.reason),
    idn.basis && h('p', { class: 'basis' }, idn.basis),
    actions,
    node.kind === 'Model' || node.kind === 'Deployment' ? postureSection(node.id) : null,
    h('h3', null, 'Keys'), h('ul', { class: 'keys' }, node.keys.map((k) => h('li', null, k))),
    node.attrs.length ? [h('h3', null, 'Attributes'), attrs] : null,
    h('h3', null, `Documents about it (${described.length})`),
    described.length ? described.map(evidenceCard) : h('p', { class: 'hint' }, 'No document names it as its subject.'),
    others.length ? [h('h3', null, `Other documents mentioning it (${others.length})`), others.map((dg) => (evByDoc.has(dg) ? evidenceCard(evByDoc.get(dg)) : docLabel(dg)))] : null,
    d.files ? h('p', { class: 'hint' }, `Contains ${plural(d.files, 'file', 'files')}.`) : null,
    h('h3', null, `Edges (${d.edgesTotal.toLocaleString('en-US')})`), edgeList,
  );
}

// showGroup lists a fan-out's members with a filter: past a few dozen a
// list reads better than a picture. A member picked here is drawn.
function showGroup(gid) {
  tab('details');
  app.selected = null;
  const pane = $('details');
  const g = app.model.groups.find((x) => x.id === gid);

  const [, , edgeKind, kind] = gid.split(/[:|]/);
  const pid = gid.split(':')[1];
  const all = g ? g.all : [...app.lin.parent].filter(([id, [p, ek]]) => p === pid && ek === edgeKind && app.lin.nodes.get(id)?.kind === kind).map(([id]) => id)
    .sort((a, b) => (app.lin.nodes.get(a).name || a).localeCompare(app.lin.nodes.get(b).name || b));
  const k = KINDS[kind] || { many: kind };
  const folded = new Set(g ? g.members : []);
  const list = h('div');
  const filter = h('input', { type: 'search', placeholder: `filter ${k.many}`, 'aria-label': `Filter ${k.many}` });
  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const hits = all.filter((id) => !f || (app.lin.nodes.get(id).name || id).toLowerCase().includes(f));
    clear(list, hits.slice(0, 200).map((id) => {
      const n = app.lin.nodes.get(id);
      return h('div', { class: 'edge-row' },
        h('button', { class: 'link', onclick: () => { app.lin.pinned.add(id); redraw(); select(id); } }, n.name || id),
        folded.has(id) ? null : h('span', { class: 'ek' }, 'drawn'));
    }), hits.length > 200 ? h('p', { class: 'hint' }, `… and ${(hits.length - 200).toLocaleString('en-US')} more: refine the filter`) : null);
  };
  filter.addEventListener('input', draw);
  clear(pane,
    h('div', null, kindBadge(kind), ' ', g ? badge(g.status) : null),
    h('h2', null, `${all.length.toLocaleString('en-US')} ${k.many}`),
    h('p', { class: 'sub' }, `${edgeKind} ${app.lin.nodes.get(pid)?.name || pid}`),
    h('p', null, g ? `${g.count.toLocaleString('en-US')} still folded into the dashed box; each click on it draws ${PAGE} more.` : 'All drawn.'),
    h('div', { class: 'actions' },
      g ? h('button', { onclick: () => { expand(app.lin, gid); redraw(); status(summaryParts()); showGroup(gid); } }, `Draw ${Math.min(PAGE, g.count)} more`) : null,
      h('button', { onclick: () => { fold(app.lin, gid); redraw(); status(summaryParts()); showGroup(gid); } }, 'Fold all')),
    filter, list);
  draw();
}

function tabIfNotImpact() {
  if ($('impact').hidden) tab('details');
}

async function showEdge(e) {
  tab('details');
  const pane = $('details');
  app.selected = null;
  const from = app.lin.nodes.get(e.from);
  const to = app.lin.nodes.get(e.to);
  const title = `${from ? from.name : e.from} ${e.kind} ${to ? to.name : e.to}`;
  if (e.count > 1) {
    clear(pane, h('h2', null, `${e.count} ${e.kind} edges`), h('p', null, 'This edge stands for a folded group; expand the group to see each one. Weakest status: ', badge(e.status)));
    return;
  }
  clear(pane, h('h2', null, title), h('p', { class: 'hint' }, 'Loading evidence…'));
  let d;
  try {
    d = (await gql(Q.DETAILS, { ref: e.from })).lookup[0];
  } catch (err) {
    clear(pane, h('h2', null, title), h('div', { class: 'error' }, explain(err)));
    return;
  }
  const hop = d && d.edges.find((x) => x.kind === e.kind && x.to.id === e.to);
  if (!hop) {
    clear(pane, h('h2', null, title), badge(e.status), h('p', { class: 'hint' }, 'The edge is beyond the first 200 edges of its node; its status is shown above.'));
    return;
  }
  clear(pane,
    h('div', null, h('span', { class: 'badge kind', style: { background: '#334155' } }, hop.kind), ' ', badge(hop.status)),
    h('h2', null, `${hop.from.name} ${hop.kind} ${hop.to.name}`),
    hop.weakness && h('p', { class: 'reason' }, hop.weakness),
    hop.attrs.length ? [h('h3', null, 'Attributes'), h('table', { class: 'attrs' }, h('thead', null, h('tr', null, h('th', null, 'attribute'), h('th', null, 'value'), h('th', null, 'claimed by'))),
      h('tbody', null, hop.attrs.map((a) => h('tr', null, h('td', null, a.name), h('td', null, a.value), h('td', { class: 'by' }, (a.documents || []).map((dg) => {
        const ev = hop.evidence.find((x) => x.document === dg);
        return h('div', { class: 'mono', title: dg }, ev ? `${ev.type} ${shortDigest(dg)}` : shortDigest(dg));
      }))))))] : null,
    h('h3', null, `Evidence (${hop.evidence.length})`), hop.evidence.map(evidenceCard));
}

// ---------- impact ----------

// startImpact re-roots the view at id, looking downstream, and asks for the
// deployments: the URL then names the whole incident view.
function startImpact(id) {
  const p = readParams();
  go({ ref: id, dir: p.dir === 'up' ? 'down' : p.dir, impact: true });
}

async function runImpact(rootId, seq, signal) {
  const root = app.lin.nodes.get(rootId);
  tab('impact');
  const pane = $('impact');
  clear(pane, h('p', { class: 'hint' }, `Finding the deployments downstream of ${root.name}…`));
  setState('impact-loading');
  status(summaryParts(), { busy: 'Finding deployments…' });
  const vars = { ref: rootId, depth: app.params.depth, first: Q.PAGE };
  let rows;
  let meta;
  try {
    if (root.kind === 'Dataset') {
      const a = (await gql(Q.DEPLOYED_FROM_DATASET, vars, { signal })).deployedModelsTrainedOn;
      rows = a.deployments.map((d) => ({
        deployment: d.deployment, environment: d.environment || '', model: d.model, state: d.state, deployedAt: d.deployedAt || '', status: d.status, path: d.path,
      }));
      meta = { total: a.totalCount, truncated: a.truncated, depthLimited: a.depthLimited, question: `deployedModelsTrainedOn: deployments running a model trained on ${root.name}, directly or through derived datasets and models`, models: a.models.length };
    } else {
      const a = (await gql(Q.DEPLOYED_DOWNSTREAM, vars, { signal })).impact;
      rows = a.reached.map((r) => {
        const last = r.path[r.path.length - 1];
        const env = (r.node.attrs.find((x) => x.name === 'environment') || {}).value || '';
        return { deployment: r.node, environment: env, model: last && last.kind === 'DEPLOYED_AS' ? last.from : null, state: '', deployedAt: '', status: r.status, path: r.path };
      });
      meta = { total: a.totalCount, truncated: a.truncated, depthLimited: a.depthLimited, question: `impact: deployments downstream of ${root.name}` };
    }
  } catch (err) {
    if (err.name === 'AbortError' || seq !== app.seq) return;
    setState('error');
    clear(pane, h('div', { class: 'error' }, explain(err)));
    status(summaryParts(), { error: explain(err) });
    return;
  }
  if (seq !== app.seq) return;
  for (const r of rows) {
    const weakest = r.path.find((hp) => hp.status === r.status && hp.status !== 'verified');
    r.weakHop = weakest || null;
    r.hops = r.path.length;
    app.lin.pinned.add(r.deployment.id);
    app.lin.addPath(r.path, true);
  }
  rows.sort((a, b) => (a.state === 'withdrawn') - (b.state === 'withdrawn') || (STATUS_RANK[a.status] - STATUS_RANK[b.status]) || a.environment.localeCompare(b.environment) || a.deployment.name.localeCompare(b.deployment.name));
  app.impact = { root: rootId, rows, ...meta };
  redraw();
  renderImpact();
  setState('impact-ready');
  status([`${plural(rows.length, 'deployment', 'deployments')} in the impact of ${root.name}`, ...summaryParts()]);
}

function pathElements(path) {
  const { hiddenBy } = app.model;
  const ids = new Set();
  for (const hp of path) {
    const [s0, t0] = flow({ from: hp.from.id, kind: hp.kind, to: hp.to.id });
    const s = hiddenBy.get(s0) || s0;
    const t = hiddenBy.get(t0) || t0;
    ids.add(s).add(t).add(edgeKey(s, hp.kind, t));
  }
  return ids;
}

// highlightImpact marks the deployments and the paths to them. By default
// the rest of the lineage is hidden and the paths are laid out alone, so
// the picture answers the question; "show the rest" dims it instead.
function highlightImpact() {
  const cy = app.view.cy;
  const imp = app.impact;
  cy.batch(() => {
    cy.elements().removeClass('dim onpath impacted hidden withdrawn');
    if (!imp) return;
    const keep = new Set([imp.root]);
    for (const r of imp.rows) for (const id of pathElements(r.path)) keep.add(id);
    cy.elements().forEach((el) => {
      if (!keep.has(el.id())) el.addClass(app.impactContext ? 'dim' : 'hidden');
      else if (el.isEdge()) el.addClass('onpath');
    });
    for (const r of imp.rows) cy.getElementById(r.deployment.id).addClass(r.state === 'withdrawn' ? 'impacted withdrawn' : 'impacted');
  });
  app.view.layout(app.impactContext ? cy.elements() : cy.elements().not('.hidden'));
}

function renderImpact() {
  const imp = app.impact;
  const root = app.lin.nodes.get(imp.root);
  const pane = $('impact');
  const warn = [];
  if (imp.truncated) warn.push('The walk hit its node limit: the list may be incomplete.');
  if (imp.depthLimited) warn.push(`Edges were left unexplored at depth ${app.params.depth}: raise the depth to be sure nothing lies beyond.`);
  if (imp.total > imp.rows.length) warn.push(`Showing ${imp.rows.length} of ${imp.total}.`);
  const weakCount = imp.rows.filter((r) => r.status !== 'verified').length;
  const ctx = h('input', { type: 'checkbox', id: 'impact-context' });
  ctx.checked = !!app.impactContext;
  ctx.addEventListener('change', () => {
    app.impactContext = ctx.checked;
    highlightImpact();
  });
  const table = h('table', { id: 'impact-table' },
    h('thead', null, h('tr', null, ['deployment', 'environment', 'model it runs', 'hops', 'weakest evidence'].map((t) => h('th', null, t)))),
    h('tbody', null, imp.rows.map((r) => {
      const tr = h('tr', { dataset: { deployment: r.deployment.name, id: r.deployment.id } },
        h('td', null, h('div', null, breakable(r.deployment.name)), r.state ? h('span', { class: `badge ${r.state === 'withdrawn' ? 'withdrawn' : 'active'}` }, r.state) : null, r.deployedAt ? h('div', { class: 'sub' }, `since ${r.deployedAt}`) : null),
        h('td', null, r.environment || '—'),
        h('td', null, r.model ? breakable(r.model.name) : '—'),
        h('td', null, String(r.hops)),
        h('td', { class: 'weak' }, badge(r.status), r.weakHop ? h('span', { class: 'why' }, `${r.weakHop.from.name} ${r.weakHop.kind} ${r.weakHop.to.name}`) : null));
      tr.addEventListener('click', () => {
        for (const x of pane.querySelectorAll('tbody tr.sel')) x.classList.remove('sel');
        tr.classList.add('sel');
        const cy = app.view.cy;
        const el = cy.getElementById(r.deployment.id);
        if (el.nonempty()) cy.animate({ center: { eles: el }, duration: 250 });
        select(r.deployment.id);
      });
      return tr;
    })));
  clear(pane,
    h('div', { class: 'summary' },
      h('b', null, plural(imp.rows.length, 'deployment', 'deployments')),
      ` downstream of `, kindBadge(root.kind), ' ', h('b', null, root.name),
      imp.models !== undefined ? `, through ${plural(imp.models, 'model', 'models')} trained on it` : '',
      imp.rows.length ? `. ${weakCount} rest on at least one link that is not backed by a verified signature.` : '.'),
    h('p', { class: 'hint' }, `Question asked: ${imp.question} (depth ${app.params.depth}). The graph shows the paths to them. Click a row to find it; its details go to the Details tab.`),
    warn.map((w) => h('div', { class: 'warn' }, w)),
    imp.rows.length ? table : h('p', null, 'No deployment runs anything downstream of it within this depth.'),
    h('div', { class: 'actions' },
      h('button', { onclick: () => exportImpact('json') }, 'Download JSON'),
      h('button', { onclick: () => exportImpact('csv') }, 'Download CSV'),
      h('label', { class: 'check' }, ctx, ' show the rest of the lineage'),
      h('button', { onclick: () => { app.impact = null; highlightImpact(); go({ impact: false }); } }, 'Clear highlight')),
  );
}

function exportImpact(format) {
  const imp = app.impact;
  const root = app.lin.nodes.get(imp.root);
  const rows = imp.rows.map((r) => ({
    deployment: r.deployment.name, deploymentId: r.deployment.id, environment: r.environment, model: r.model ? r.model.name : '',
    state: r.state, deployedAt: r.deployedAt, hops: r.hops, weakestStatus: r.status,
    weakestHop: r.weakHop ? `${r.weakHop.from.name} ${r.weakHop.kind} ${r.weakHop.to.name}` : '', weakness: r.weakHop ? r.weakHop.weakness || '' : '',
  }));
  const base = `impact-${(root.name || root.id).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}`;
  if (format === 'json') {
    saveBlob(new Blob([JSON.stringify({ root: { id: root.id, kind: root.kind, name: root.name }, depth: app.params.depth, truncated: imp.truncated, depthLimited: imp.depthLimited, deployments: rows }, null, 2)], { type: 'application/json' }), `${base}.json`);
    return;
  }
  const cols = Object.keys(rows[0] || { deployment: '' });
  const esc = (v) => {
    const s = String(v ?? '');
    return /[",\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const csv = [cols.join(','), ...rows.map((r) => cols.map((c) => esc(r[c])).join(','))].join('\n');
  saveBlob(new Blob([csv + '\n'], { type: 'text/csv' }), `${base}.csv`);
}

// ---------- alerts ----------

const alerts = { items: [], unseen: 0, stop: null, state: '' };

function alertItem(e) {
  const when = e.detectedAt ? new Date(e.detectedAt).toLocaleString() : '';
  const ref = e.modelId || e.deploymentId || e.nodeId;
  return h('li', { class: `alert sev-${e.severity}`, dataset: { id: e.id } },
    h('div', { class: 'row' }, h('span', { class: `badge sev ${e.severity}` }, e.severity), ' ', h('b', null, e.kind), ' ', e.trust ? badge(e.trust) : null),
    h('p', null, e.summary),
    e.reason ? h('p', { class: 'hint' }, e.reason) : null,
    h('p', { class: 'hint' }, when, e.environment ? ` · ${e.environment}` : '', ' · ', h('code', null, e.id)),
    ref ? h('button', { type: 'button', onclick: () => go({ ref, impact: false }) }, 'Show in graph') : null);
}

function renderAlerts() {
  const pane = $('alerts');
  clear(pane,
    h('p', { class: 'hint' }, alerts.state === 'live' ? 'Live: new notifications appear here as the server finds them.' : `Notifications: ${alerts.state || 'connecting…'}`),
    alerts.items.length ? h('ul', { class: 'alerts' }, alerts.items.map(alertItem)) : h('p', { class: 'hint' }, 'No notifications yet.'));
  $('tab-alerts').textContent = alerts.unseen ? `Alerts (${alerts.unseen})` : 'Alerts';
}

function startAlerts() {
  if (alerts.stop) alerts.stop();
  alerts.items = [];
  alerts.unseen = 0;
  alerts.stop = watchAlerts((e) => {
    if (alerts.items.some((x) => x.id === e.id)) return;
    alerts.items.unshift(e);
    alerts.items.length = Math.min(alerts.items.length, MAX_ALERTS);
    if ($('alerts').hidden) alerts.unseen++;
    renderAlerts();
  }, (st) => {
    alerts.state = st;
    renderAlerts();
  });
  renderAlerts();
}

// ---------- token ----------

function openToken() {
  const pop = $('token-pop');
  pop.hidden = false;
  $('token').value = token();
  $('token').focus();
}

function refreshTokenButton() {
  $('token-btn').classList.toggle('set', !!token());
  $('token-btn').textContent = token() ? 'Token ✓' : 'Token';
}

// ---------- wiring ----------

function init() {
  renderLegend($('legend'));
  app.view = createView($('cy'), {
    onNode: (id) => select(id),
    onGroup: (gid) => {
      expand(app.lin, gid);
      redraw();
      status(summaryParts());
      showGroup(gid);
    },
    onEdge: (e) => showEdge(e),
    onBackground: () => {},
    onOpen: (id) => go({ ref: id, impact: false }),
  });
  window.modelgraphUI = { app }; // for the browser test and the curious
  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    search($('q').value);
  });
  $('q').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hidePicks();
    if (e.key === 'ArrowDown' && !$('picks').hidden) {
      const first = $('picks').querySelector('li[role="option"]');
      if (first) first.focus();
    }
  });
  document.addEventListener('click', (e) => {
    if (!$('search').contains(e.target)) hidePicks();
    if (!$('token-pop').contains(e.target) && e.target !== $('token-btn')) $('token-pop').hidden = true;
  });
  $('dir').addEventListener('change', () => go({ dir: $('dir').value, impact: false }));
  $('depth').addEventListener('change', () => {
    const d = Math.max(1, Math.min(MAX_DEPTH, parseInt($('depth').value, 10) || 6));
    go({ depth: d });
  });
  $('files').addEventListener('change', () => go({ files: $('files').checked }));
  $('impact-btn').addEventListener('click', () => app.selected && startImpact(app.selected));
  $('fit').addEventListener('click', () => app.view.cy.fit(undefined, 30));
  $('png').addEventListener('click', async () => {
    const blob = await app.view.cy.png({ output: 'blob-promise', full: true, scale: 2, bg: '#ffffff' });
    saveBlob(blob, 'modelgraph-lineage.png');
  });
  $('token-btn').addEventListener('click', () => {
    if ($('token-pop').hidden) openToken();
    else $('token-pop').hidden = true;
  });
  $('token-pop').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken($('token').value.trim());
    $('token-pop').hidden = true;
    refreshTokenButton();
    startAlerts();
    if (readParams().ref) route();
  });
  $('token-clear').addEventListener('click', () => {
    setToken('');
    $('token').value = '';
    refreshTokenButton();
  });
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => tab(b.dataset.pane));
  $('tab-alerts').addEventListener('click', () => {
    alerts.unseen = 0;
    renderAlerts();
  });
  window.addEventListener('hashchange', route);
  initFront({ open: (ref, dir, impact = false) => go({ ref, dir, impact }), explain });
  refreshTokenButton();
  startAlerts();
  route();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();

