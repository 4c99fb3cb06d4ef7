// GraphQL documents. Selections stay small: a lineage page of 1,000 reached
// nodes must fit the server's complexity budget with both directions asked
// at once.

// Nodes are shown by the server's displayName (graph/ref's one display
// rule, docs/architecture.md), read as `name` so Nodes and NodeRefs (whose
// name follows the same rule) are drawn alike.

export const PAGE = 1000;
// Nodes whose incident edges are fetched to draw the links the walk's
// shortest-path tree leaves out (a merge's second parent, a derived dataset
// that is also a direct input).
export const CROSS_EDGE_NODES = 120;

export const RESOLVE = `query Resolve($ref: String!) {
  resolve(ref: $ref) { id kind name: displayName keys }
}`;

const LINEAGE_FIELDS = `roots { id kind name: displayName keys }
    reached { node { id kind name: displayName } depth status path { from { id } kind to { id } status } }
    totalCount truncated depthLimited pageInfo { hasNextPage }`;

export function lineage(dir) {
  const up = dir !== 'down';
  const down = dir !== 'up';
  const vars = ['$ref: String!', '$depth: Int', '$first: Int'];
  if (up) vars.push('$files: Boolean');
  const parts = [];
  if (up) parts.push(`up: trace(ref: $ref, depth: $depth, includeFiles: $files, first: $first) {\n    ${LINEAGE_FIELDS}\n  }`);
  if (down) parts.push(`down: impact(ref: $ref, depth: $depth, first: $first) {\n    ${LINEAGE_FIELDS}\n  }`);
  return `query Lineage(${vars.join(', ')}) {\n  ${parts.join('\n  ')}\n}`;
}

// edges asks, in one request, for the incident edges of each node.
export function edges(ids) {
  const vars = ids.map((_, i) => `$r${i}: String!`).join(', ');
  const body = ids.map((_, i) => `n${i}: lookup(ref: $r${i}) { edges { from { id kind name } kind to { id kind name } status } }`).join('\n  ');
  const variables = Object.fromEntries(ids.map((id, i) => [`r${i}`, id]));
  return { query: `query Edges(${vars}) {\n  ${body}\n}`, variables };
}

const EVIDENCE = `fragment Ev on Evidence {
  document type predicateType source ingestedAt status role
  signers { method identity issuer keyId status reason scope }
}`;

export const DETAILS = `query Details($ref: String!) {
  lookup(ref: $ref) {
    node { id kind name: displayName keys attrs { name value documents } documents }
    identity { status verified reason basis describedBy { ...Ev } }
    edges { from { id kind name } kind to { id kind name } attrs { name value documents } status weakness evidence { ...Ev } }
    edgesTotal
    files
  }
}
${EVIDENCE}`;

const HOP = `from { id kind name } kind to { id kind name } status weakness`;

export const DEPLOYED_FROM_DATASET = `query DeployedFromDataset($ref: String!, $depth: Int, $first: Int) {
  deployedModelsTrainedOn(dataset: $ref, depth: $depth, first: $first) {
    deployments { deployment { id kind name: displayName } model { id kind name } environment deployedAt state status path { ${HOP} } }
    models { id }
    totalCount truncated depthLimited
  }
}`;

export const DEPLOYED_DOWNSTREAM = `query DeployedDownstream($ref: String!, $depth: Int, $first: Int) {
  impact(ref: $ref, depth: $depth, kinds: [Deployment], first: $first) {
    reached { node { id kind name: displayName attrs { name value } } status path { ${HOP} } }
    totalCount truncated depthLimited
  }
}`;

// The MLSecOps posture of a model or deployment (docs/posture.md): the
// level and every control with what would fix it.
export const POSTURE = `query Posture($ref: String!) {
  posture(ref: $ref) {
    level levelName missing passed failed unknown
    model { id kind name }
    controls { id title stage level result message fix evidence { document type status } }
  }
}`;
