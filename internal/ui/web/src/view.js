// The drawing: cytoscape.js with the dagre layered layout, inputs on the
// left and what was made from them on the right. Colour and shape give the
// node kind; colour and dash give how well an edge's claim is backed.
import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import { h, clear } from './dom.js';

cytoscape.use(dagre);

export const KINDS = {
  Model: { color: '#4338ca', shape: 'round-rectangle', one: 'model', many: 'models' },
  Dataset: { color: '#0e7490', shape: 'barrel', one: 'dataset', many: 'datasets' },
  TrainingRun: { color: '#0f766e', shape: 'round-pentagon', one: 'training run', many: 'training runs' },
  Deployment: { color: '#be185d', shape: 'round-hexagon', one: 'deployment', many: 'deployments' },
  Package: { color: '#a16207', shape: 'round-diamond', one: 'package', many: 'packages' },
  File: { color: '#6b7280', shape: 'rectangle', one: 'file', many: 'files' },
  Source: { color: '#7c3aed', shape: 'round-tag', one: 'source', many: 'sources' },
  Advisory: { color: '#b91c1c', shape: 'round-octagon', one: 'advisory', many: 'advisories' },
  Vulnerability: { color: '#7f1d1d', shape: 'star', one: 'vulnerability', many: 'vulnerabilities' },
  Identity: { color: '#1d4ed8', shape: 'ellipse', one: 'identity', many: 'identities' },
  Document: { color: '#475569', shape: 'round-triangle', one: 'document', many: 'documents' },
};

export const STATUSES = {
  verified: { color: '#16a34a', style: 'solid', label: 'verified signature' },
  failed: { color: '#dc2626', style: 'dashed', label: 'signature failed' },
  unverifiable: { color: '#ea580c', style: 'dotted', label: 'unverifiable signature' },
  unsigned: { color: '#9ca3af', style: 'dashed', label: 'unsigned claim' },
};

const EDGE_LABELS_UP_TO = 40;

function label(s, max = 48) {
  if (!s) return '';
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function style() {
  const s = [
    {
      selector: 'node',
      style: {
        width: 30, height: 30, 'background-color': '#94a3b8', shape: 'ellipse',
        label: 'data(label)', 'font-size': 12, color: '#0f172a', 'text-valign': 'bottom', 'text-halign': 'center',
        'text-margin-y': 4, 'text-wrap': 'wrap', 'text-max-width': 130, 'text-overflow-wrap': 'anywhere',
        'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': 1,
        'border-width': 0, 'border-color': '#0f172a',
      },
    },
  ];
  for (const [k, v] of Object.entries(KINDS)) {
    s.push({ selector: `node[kind="${k}"]`, style: { 'background-color': v.color, shape: v.shape } });
  }
  s.push(
    { selector: 'node.root', style: { 'border-width': 4, 'border-color': '#0f172a', 'font-weight': 'bold', width: 36, height: 36 } },
    {
      selector: 'node.group',
      style: {
        shape: 'round-rectangle', width: 'data(w)', height: 'data(h)', 'background-color': '#fff7ed',
        'background-opacity': 1, 'border-width': 2, 'border-style': 'dashed', 'text-valign': 'center', 'text-margin-y': 0,
        'font-weight': 'bold', 'text-background-opacity': 0, 'text-max-width': 200,
      },
    },
  );
  for (const [k, v] of Object.entries(KINDS)) {
    s.push({ selector: `node.group[kind="${k}"]`, style: { 'border-color': v.color, color: v.color, 'background-color': '#ffffff' } });
  }
  s.push(
    {
      selector: 'edge',
      style: {
        width: 2, 'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.9,
        'line-color': '#9ca3af', 'target-arrow-color': '#9ca3af', 'line-style': 'dashed',
        'font-size': 9, color: '#475569', 'text-rotation': 'autorotate',
        'text-background-color': '#ffffff', 'text-background-opacity': 0.9, 'text-background-padding': 1,
      },
    },
    { selector: 'edge.labelled', style: { label: 'data(label)' } },
  );
  for (const [k, v] of Object.entries(STATUSES)) {
    s.push({ selector: `edge[status="${k}"]`, style: { 'line-color': v.color, 'target-arrow-color': v.color, 'line-style': v.style } });
  }
  s.push(
    { selector: 'edge[status="verified"]', style: { width: 2.5 } },
    { selector: 'edge[status="unverifiable"]', style: { width: 3 } },
    { selector: ':selected', style: { 'overlay-color': '#1d4ed8', 'overlay-opacity': 0.18, 'overlay-padding': 6 } },
    { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#1d4ed8' } },
    { selector: '.dim', style: { opacity: 0.2 } },
    { selector: '.hidden', style: { display: 'none' } },
    { selector: 'edge.onpath', style: { width: 4.5, 'z-index': 10 } },
    {
      selector: 'node.impacted',
      style: {
        'underlay-color': '#facc15', 'underlay-opacity': 0.9, 'underlay-padding': 9, 'underlay-shape': 'ellipse',
        'font-weight': 'bold', 'z-index': 20,
      },
    },
    { selector: 'node.impacted.withdrawn', style: { 'underlay-color': '#cbd5e1' } },
  );
  return s;
}

export function createView(container, { onNode, onGroup, onEdge, onBackground, onOpen }) {
  const cy = cytoscape({
    container,
    style: style(),
    minZoom: 0.05,
    maxZoom: 3,
    boxSelectionEnabled: false,
    selectionType: 'single',
  });
  cy.on('tap', 'node', (ev) => {
    const n = ev.target;
    if (n.data('group')) onGroup(n.id());
    else onNode(n.id());
  });
  cy.on('dbltap', 'node', (ev) => {
    if (!ev.target.data('group')) onOpen(ev.target.id());
  });
  cy.on('tap', 'edge', (ev) => onEdge(ev.target.data()));
  cy.on('tap', (ev) => {
    if (ev.target === cy) onBackground();
  });

  function draw(model, lin) {
    const els = [];
    for (const n of model.nodes) {
      const classes = [lin.roots.has(n.id) ? 'root' : ''].filter(Boolean).join(' ');
      els.push({ group: 'nodes', data: { id: n.id, kind: n.kind, name: n.name, label: label(n.name || n.id) }, classes });
    }
    for (const g of model.groups) {
      const k = KINDS[g.kind] || { one: g.kind, many: g.kind };
      const n = g.count.toLocaleString('en-US');
      const what = g.count < g.total ? `${n} more ${k.many}` : `${n} ${g.count === 1 ? k.one : k.many}`;
      const beyond = g.beyond ? `\n+${g.beyond.toLocaleString('en-US')} reached through them` : '';
      const text = `${what}${beyond}\nclick to expand`;
      const lines = text.split('\n');
      // Sized from the text: cytoscape's width: label is deprecated.
      const w = Math.max(...lines.map((l) => l.length)) * 7 + 26;
      els.push({
        group: 'nodes', classes: 'group',
        data: { id: g.id, kind: g.kind, group: true, label: text, count: g.count, w, h: lines.length * 16 + 14 },
      });
    }
    const labelled = model.edges.length <= EDGE_LABELS_UP_TO;
    for (const e of model.edges) {
      els.push({
        group: 'edges', classes: labelled ? 'labelled' : '',
        data: { id: e.id, source: e.source, target: e.target, kind: e.kind, status: e.status || 'unsigned', label: e.count > 1 ? `${e.kind} ×${e.count}` : e.kind, from: e.from, to: e.to, count: e.count },
      });
    }
    cy.batch(() => {
      cy.elements().remove();
      cy.add(els);
    });
  }

  // layout tries inputs-left-to-right first and keeps top-to-bottom when
  // that draws a long chain larger on this canvas: readable labels matter
  // more than a fixed orientation.
  function layout(eles = cy.elements()) {
    const run = (rankDir) => {
      cy.edges().style('text-rotation', rankDir === 'LR' ? 'autorotate' : 'none');
      eles.layout({
        name: 'dagre', rankDir, nodeSep: rankDir === 'LR' ? 14 : 24, rankSep: rankDir === 'LR' ? 46 : 56, edgeSep: 8, ranker: 'network-simplex',
        nodeDimensionsIncludeLabels: true, fit: true, padding: 30, animate: false,
      }).run();
      return cy.zoom();
    };
    const lr = run('LR');
    if (lr < 0.95 && eles.nodes().length <= 80) {
      const tb = run('TB');
      if (tb < lr * 1.1) run('LR');
    }
    if (cy.zoom() > 1.4) {
      cy.zoom(1.4);
      cy.center();
    }
  }

  return { cy, draw, layout };
}

export function renderLegend(el) {
  const kinds = Object.entries(KINDS).map(([k, v]) =>
    h('span', { class: 'item', title: k }, h('span', { class: 'sw', style: { background: v.color } }), k));
  const statuses = Object.entries(STATUSES).map(([k, v]) =>
    h('span', { class: 'item', title: k }, h('span', { class: 'ln', style: { 'border-top-color': v.color, 'border-top-style': v.style } }), v.label));
  clear(el,
    h('span', { class: 'lg-h' }, 'Nodes'), ...kinds,
    h('span', { class: 'lg-sep' }),
    h('span', { class: 'lg-h' }, 'Edges'), ...statuses,
    h('span', { class: 'item impacted-sw' }, h('span', { class: 'sw ring' }), 'deployment in impact'),
    h('span', { class: 'item impacted-sw' }, h('span', { class: 'sw ring withdrawn' }), 'withdrawn'),
    h('span', { class: 'note' }, 'Arrows run downstream, from an input to what was made from it; labels name the recorded claim. Dashed boxes group large fan-outs.'),
  );
}
