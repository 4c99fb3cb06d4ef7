// Unit tests of the drawing model (node --test); run by
// internal/ui/e2e's TestLineageModel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Lineage, build, expand, fold, flow, weaker } from './model.js';

const hop = (from, kind, to, status = 'verified') => ({ from: { id: from }, kind, to: { id: to }, status });

// model m depends on n packages; one package depends on another; a
// deployment runs m.
function fanout(n) {
  const lin = new Lineage();
  lin.addRoot({ id: 'm', kind: 'Model', name: 'acme/llm' });
  const reached = [];
  for (let i = 0; i < n; i++) {
    const id = `p${String(i).padStart(4, '0')}`;
    reached.push({ node: { id, kind: 'Package', name: `pkg:pypi/p${i}` }, depth: 1, path: [hop('m', 'DEPENDS_ON', id, i === 0 ? 'failed' : 'unsigned')] });
  }
  reached.push({ node: { id: 'deep', kind: 'Package', name: 'pkg:pypi/deep' }, depth: 2, path: [hop('m', 'DEPENDS_ON', 'p0001'), hop('p0001', 'DEPENDS_ON', 'deep')] });
  reached.push({ node: { id: 'd', kind: 'Deployment', name: 'prod/api' }, depth: 1, path: [hop('m', 'DEPLOYED_AS', 'd')] });
  lin.addReached(reached);
  return lin;
}

test('flow puts inputs first', () => {
  assert.deepEqual(flow({ from: 'm', kind: 'TRAINED_ON', to: 'ds' }), ['ds', 'm']);
  assert.deepEqual(flow({ from: 'm', kind: 'DEPLOYED_AS', to: 'd' }), ['m', 'd']);
  assert.deepEqual(flow({ from: 'adv', kind: 'AFFECTS', to: 'm' }), ['adv', 'm']);
});

test('weaker follows graph.Status.Rank', () => {
  assert.equal(weaker('verified', 'unsigned'), 'unsigned');
  assert.equal(weaker('unverifiable', 'unsigned'), 'unsigned');
  assert.equal(weaker('unsigned', 'failed'), 'failed');
  assert.equal(weaker(undefined, 'verified'), 'verified');
});

test('a small fan-out is drawn node by node', () => {
  const m = build(fanout(12));
  assert.equal(m.groups.length, 0);
  assert.equal(m.nodes.length, 12 + 3);
});

test('a huge fan-out is one group with the weakest status', () => {
  const lin = fanout(5000);
  const m = build(lin);
  assert.equal(m.groups.length, 1);
  const g = m.groups[0];
  assert.equal(g.kind, 'Package');
  assert.equal(g.count, 5000);
  assert.equal(g.beyond, 1, 'the package reached through a grouped one is folded too');
  assert.equal(g.status, 'failed');
  assert.deepEqual(m.nodes.map((n) => n.id).sort(), ['d', 'm']);
  const e = m.edges.find((x) => x.target === g.id || x.source === g.id);
  assert.equal(e.source, g.id, 'packages flow into the model');
  assert.equal(e.target, 'm');
  assert.equal(e.count, 5000, 'every folded edge is counted; the one between two folded packages is dropped');
  assert.ok(m.edges.some((x) => x.source === 'm' && x.target === 'd'));
  assert.equal(m.hiddenBy.get('deep'), g.id);
});

test('expanding shows a page at a time, then everything', () => {
  const lin = fanout(450);
  const gid = build(lin).groups[0].id;
  expand(lin, gid, { page: 200 });
  let m = build(lin);
  assert.equal(m.groups.length, 1);
  assert.equal(m.groups[0].count, 250);
  assert.equal(m.groups[0].total, 450);
  const shown = new Set(m.nodes.map((n) => n.id));
  assert.equal(shown.has('p0001'), true, 'members are shown in name order: pkg:pypi/p1 sorts early');
  assert.equal(shown.has('deep'), true, 'what hangs below a shown member is shown');
  assert.equal(m.nodes.length, 200 + 3);
  expand(lin, gid, { page: 200 });
  m = build(lin);
  assert.equal(m.groups[0].count, 50);
  expand(lin, gid, { page: 45 });
  m = build(lin);
  assert.equal(m.groups.length, 0, 'a group that would hold a handful is drawn out');
  assert.equal(m.nodes.length, 450 + 3);
  fold(lin, gid);
  m = build(lin);
  assert.equal(m.groups[0].count, 450);
  expand(lin, gid);
  assert.equal(build(lin).groups[0].count, 425, 'a click draws one page');
});

test('pinned nodes (impact paths) are never folded', () => {
  const lin = fanout(100);
  lin.pinned.add('p0042');
  const m = build(lin);
  assert.equal(m.groups[0].count, 99);
  assert.ok(m.nodes.some((n) => n.id === 'p0042'));
});

test('edges to folded nodes are redirected to their group, loops dropped', () => {
  const lin = fanout(30);
  lin.addEdge({ from: 'p0003', kind: 'DEPENDS_ON', to: 'p0004', status: 'verified' });
  lin.addEdge({ from: 'd', kind: 'DEPENDS_ON', to: 'p0005', status: 'unverifiable' });
  const m = build(lin);
  const g = m.groups[0];
  assert.ok(!m.edges.some((e) => e.source === e.target));
  const toD = m.edges.find((e) => e.source === g.id && e.target === 'd');
  assert.equal(toD.status, 'unverifiable');
});

test('addPath adds the nodes of an impact path and pins them', () => {
  const lin = new Lineage();
  lin.addRoot({ id: 'ds', kind: 'Dataset', name: 'raw' });
  lin.addPath([
    { from: { id: 'm', kind: 'Model', name: 'acme/llm' }, kind: 'TRAINED_ON', to: { id: 'ds', kind: 'Dataset', name: 'raw' }, status: 'verified' },
    { from: { id: 'm', kind: 'Model', name: 'acme/llm' }, kind: 'DEPLOYED_AS', to: { id: 'd', kind: 'Deployment', name: 'prod' }, status: 'unsigned' },
  ], true);
  const m = build(lin);
  assert.deepEqual(m.nodes.map((n) => n.id).sort(), ['d', 'ds', 'm']);
  assert.deepEqual(m.edges.map((e) => `${e.source}>${e.target}:${e.status}`).sort(), ['ds>m:verified', 'm>d:unsigned']);
  assert.ok(lin.pinned.has('d'));
});
