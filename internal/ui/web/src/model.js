// The lineage the page has fetched, and what of it is drawn: huge fan-outs
// (a model's thousands of packages or files) become one group node so the
// picture stays readable; clicking a group shows its members a page at a
// time.

// Edges whose To end is downstream of From (graph.EdgeKind.ForwardIsUpstream
// is false for these). Every other kind points from a thing to its input.
const FORWARD_IS_DOWNSTREAM = new Set(['DEPLOYED_AS', 'AFFECTS', 'DESCRIBES']);

// STATUS_RANK mirrors graph.Status.Rank: lower is weaker.
export const STATUS_RANK = { failed: 0, unsigned: 1, unverifiable: 2, verified: 3 };

export function weaker(a, b) {
  if (!a) return b;
  if (!b) return a;
  return (STATUS_RANK[a] ?? -1) <= (STATUS_RANK[b] ?? -1) ? a : b;
}

// flow orients an edge along the supply chain: [input, what came of it].
export function flow(e) {
  return FORWARD_IS_DOWNSTREAM.has(e.kind) ? [e.from, e.to] : [e.to, e.from];
}

export function edgeKey(from, kind, to) {
  return `${from}|${kind}|${to}`;
}

export class Lineage {
  constructor() {
    this.nodes = new Map(); // id -> {id, kind, name, keys?, depth}
    this.edges = new Map(); // from|kind|to -> {from, kind, to, status, weakness?}
    this.parent = new Map(); // id -> [parent id, edge kind]: the walk's tree
    this.roots = new Set();
    this.pinned = new Set(); // never folded into a group (impact paths)
    this.shown = new Map(); // group id -> members drawn individually
  }

  addNode(n, depth) {
    const cur = this.nodes.get(n.id);
    const next = { ...cur, ...Object.fromEntries(Object.entries(n).filter(([, v]) => v !== undefined && v !== null)) };
    next.depth = Math.min(cur?.depth ?? Infinity, depth ?? cur?.depth ?? Infinity);
    this.nodes.set(n.id, next);
    return next;
  }

  addEdge(e) {
    const k = edgeKey(e.from, e.kind, e.to);
    const cur = this.edges.get(k);
    this.edges.set(k, { ...cur, from: e.from, kind: e.kind, to: e.to, status: e.status || cur?.status, weakness: e.weakness ?? cur?.weakness });
  }

  addRoot(n) {
    this.roots.add(n.id);
    this.addNode(n, 0);
  }

  // addReached takes Lineage.reached (trace or impact): the node, the
  // shortest path to it, whose last hop makes the walk's tree.
  addReached(list) {
    for (const r of list || []) {
      this.addNode(r.node, r.depth);
      const path = r.path || [];
      for (const hop of path) {
        this.addEdge({ from: hop.from.id, kind: hop.kind, to: hop.to.id, status: hop.status, weakness: hop.weakness });
      }
      const last = path[path.length - 1];
      if (last && !this.roots.has(r.node.id) && !this.parent.has(r.node.id)) {
        const p = last.from.id === r.node.id ? last.to.id : last.from.id;
        this.parent.set(r.node.id, [p, last.kind]);
      }
    }
  }

  // addPath merges a path whose hops carry full node refs (impact answers),
  // hanging nodes the walk did not reach under the path's previous node.
  addPath(path, pin) {
    for (const hop of path || []) {
      for (const end of [hop.from, hop.to]) {
        if (!this.nodes.has(end.id)) this.addNode({ id: end.id, kind: end.kind, name: end.name });
        if (pin) this.pinned.add(end.id);
      }
      this.addEdge({ from: hop.from.id, kind: hop.kind, to: hop.to.id, status: hop.status, weakness: hop.weakness });
    }
  }
}

// build computes what to draw: more than fanout children of one kind,
// reached through one edge kind, become a group.
export function build(lin, { fanout = 12 } = {}) {
  const children = new Map(); // parent -> Map(edgeKind|kind -> [ids])
  for (const [id, [p, ek]] of lin.parent) {
    const n = lin.nodes.get(id);
    if (!n || lin.roots.has(id)) continue;
    const k = `${ek}|${n.kind}`;
    if (!children.has(p)) children.set(p, new Map());
    const m = children.get(p);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(id);
  }
  const byDepth = [...lin.nodes.values()].sort((a, b) => (a.depth ?? 99) - (b.depth ?? 99) || cmp(a.id, b.id));
  const hiddenBy = new Map(); // node id -> group id
  const groups = new Map(); // group id -> group
  for (const n of byDepth) {
    if (!hiddenBy.has(n.id) && !lin.roots.has(n.id) && !lin.pinned.has(n.id)) {
      const pe = lin.parent.get(n.id);
      const g = pe && hiddenBy.get(pe[0]);
      if (g) {
        hiddenBy.set(n.id, g);
        groups.get(g).beyond++;
      }
    }
    if (hiddenBy.has(n.id)) continue;
    for (const [k, ids] of children.get(n.id) || []) {
      const cands = ids.filter((id) => !lin.pinned.has(id));
      if (cands.length <= fanout) continue;
      const [ek, kind] = k.split('|');
      const gid = `group:${n.id}:${k}`;
      cands.sort((a, b) => cmp(lin.nodes.get(a).name || a, lin.nodes.get(b).name || b) || cmp(a, b));
      let shown = Math.min(lin.shown.get(gid) || 0, cands.length);
      if (cands.length - shown <= fanout / 2) shown = cands.length;
      const rest = cands.slice(shown);
      if (!rest.length) continue;
      const g = { id: gid, group: true, kind, parent: n.id, edgeKind: ek, count: rest.length, total: cands.length, beyond: 0, status: undefined, members: rest, all: cands };
      groups.set(gid, g);
      for (const id of rest) hiddenBy.set(id, gid);
    }
  }
  const nodes = [];
  for (const n of lin.nodes.values()) if (!hiddenBy.has(n.id)) nodes.push(n);
  const drawn = new Set(nodes.map((n) => n.id));
  for (const g of groups.values()) drawn.add(g.id);

  const edges = new Map();
  for (const e of lin.edges.values()) {
    let [s, t] = flow(e);
    s = hiddenBy.get(s) || s;
    t = hiddenBy.get(t) || t;
    if (s === t || !drawn.has(s) || !drawn.has(t)) continue;
    const k = edgeKey(s, e.kind, t);
    const cur = edges.get(k);
    if (cur) {
      cur.status = weaker(cur.status, e.status);
      cur.count++;
    } else {
      edges.set(k, { id: k, source: s, target: t, kind: e.kind, status: e.status, count: 1, from: e.from, to: e.to });
    }
    const g = groups.get(s) || groups.get(t);
    if (g && (s === g.parent || t === g.parent)) g.status = weaker(g.status, e.status);
  }
  return { nodes, groups: [...groups.values()], edges: [...edges.values()], hiddenBy };
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// PAGE is how many members one click on a group draws: a layered layout
// turns each page into one column, which stays legible at a few dozen.
export const PAGE = 25;

// expand reveals the next page of a group's members.
export function expand(lin, groupId, { page = PAGE } = {}) {
  lin.shown.set(groupId, (lin.shown.get(groupId) || 0) + page);
}

// fold draws a group's members as one node again (those pinned stay).
export function fold(lin, groupId) {
  lin.shown.delete(groupId);
}
