// Drives modelgraph's lineage page in headless Chromium like a responder
// would: open /ui, search the leaked dataset, press Impact, and check that
// the page lists and highlights exactly the expected deployments, loads
// nothing from elsewhere, breaks no Content-Security-Policy rule, and
// downloads an AI-BOM. Saves a screenshot of the impact view.
//
//   node e2e.mjs <base-url> <screenshot.png> --ref <reference> --expect '<json array of deployment names>'
//
// Run by e2e_test.go (TestUIImpactOnDemo); exits non-zero with a reason on
// the first failed check.
import { drive, fail, parseArgs } from './browser.mjs';
import { readFile } from 'node:fs/promises';

function usage(msg) {
  console.error(`e2e: ${msg}\nusage: node e2e.mjs <base-url> <screenshot.png> --ref <reference> --expect '<json array>'`);
  process.exit(2);
}

const { positional, opts } = parseArgs(process.argv.slice(2));
const [base, shot] = positional;
if (!base || !shot) usage('base URL and screenshot path are required');
if (!opts.ref) usage('--ref is required');
let expected;
try {
  expected = JSON.parse(opts.expect || '');
} catch {
  usage('--expect must be a JSON array of deployment names');
}
if (!Array.isArray(expected) || !expected.length) usage('--expect must list at least one deployment');
const token = opts.token || '';

const sameSet = (a, b) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

await drive('e2e', { base, ignoreConsole: /status of 401/ }, async ({ page, step }) => {
  step(`open ${base}/ui`);
  const res = await page.goto(`${base}/ui`, { waitUntil: 'load' });
  if (!res || res.status() !== 200) fail(`GET /ui ended with status ${res && res.status()}`);
  if (new URL(page.url()).pathname !== '/ui/') fail(`/ui did not redirect to /ui/ (at ${page.url()})`);
  const csp = (await res.allHeaders())['content-security-policy'] || '';
  if (!csp.includes("default-src 'self'")) fail(`page served without a self-only CSP: ${csp}`);
  await page.waitForSelector('#legend .item');
  const legend = await page.$$eval('#legend .item', (els) => els.map((e) => e.textContent.trim()));
  for (const want of ['Model', 'Dataset', 'Deployment', 'verified signature', 'signature failed', 'unverifiable signature', 'unsigned claim']) {
    if (!legend.includes(want)) fail(`legend lacks ${want}: ${legend.join(', ')}`);
  }

  if (token) {
    step('the API wants a token: the page must ask for one');
    await page.fill('#q', opts.ref);
    await page.press('#q', 'Enter');
    await page.waitForSelector('#token-pop:not([hidden])');
    const msg = await page.textContent('#status');
    if (!/token/i.test(msg)) fail(`no token hint after a 401: ${msg}`);
    await page.fill('#token', token);
    await page.click('#token-pop button[type="submit"]');
  }

  step('an unknown reference is reported, not drawn');
  await page.fill('#q', 'acme/no-such-dataset@0');
  await page.press('#q', 'Enter');
  await page.waitForFunction(() => /Nothing matches acme\/no-such-dataset@0/.test(document.getElementById('status').textContent));
  if ((await page.getAttribute('body', 'data-state')) !== 'idle') fail('an unknown reference changed the view');

  step(`search ${opts.ref}`);
  await page.fill('#q', opts.ref);
  await page.press('#q', 'Enter');
  await page.waitForSelector('body[data-state="ready"]');
  const graph = await page.evaluate(() => {
    const { app } = window.modelgraphUI;
    const cy = app.view.cy;
    return {
      roots: [...app.lin.roots].map((id) => app.lin.nodes.get(id)),
      nodes: cy.nodes().map((n) => ({ id: n.id(), kind: n.data('kind'), name: n.data('name'), group: !!n.data('group'), x: n.renderedPosition('x'), y: n.renderedPosition('y') })),
      edges: cy.edges().map((e) => ({ kind: e.data('kind'), status: e.data('status') })),
      selected: cy.$(':selected').map((n) => n.id()),
      width: cy.width(),
      height: cy.height(),
    };
  });
  if (graph.roots.length !== 1 || graph.roots[0].kind !== 'Dataset') fail(`search did not land on one dataset: ${JSON.stringify(graph.roots)}`);
  const root = graph.roots[0];
  step(`lineage of ${root.name}: ${graph.nodes.length} nodes, ${graph.edges.length} edges`);
  if (graph.nodes.length < 5 || graph.edges.length < 4) fail('the lineage drawing is nearly empty');
  if (!graph.selected.includes(root.id)) fail('the searched node is not selected');
  for (const n of graph.nodes) {
    if (n.x < 0 || n.y < 0 || n.x > graph.width || n.y > graph.height) fail(`node ${n.name} is drawn off screen at ${n.x},${n.y}`);
  }
  const statuses = new Set(graph.edges.map((e) => e.status));
  for (const s of statuses) if (!['verified', 'failed', 'unverifiable', 'unsigned'].includes(s)) fail(`edge with status ${s}`);
  // The panel shows the name with "Loading evidence…" first, then the
  // whole panel once the lookup answers: wait for the second state.
  await page.waitForFunction((name) => document.querySelector('#details h2')?.textContent === name && !/Loading evidence/.test(document.querySelector('#details').textContent), root.name);
  const detailText = await page.textContent('#details');
  if (!/Documents about it/.test(detailText) || !/Keys/.test(detailText)) fail('the details panel lacks keys or documents');

  step('impact');
  await page.click('#impact-btn');
  await page.waitForSelector('body[data-state="impact-ready"]');
  const rows = await page.$$eval('#impact-table tbody tr', (trs) => trs.map((tr) => ({
    name: tr.dataset.deployment,
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
  })));
  const shown = rows.map((r) => r.name);
  if (!sameSet(shown, expected)) fail(`impact table lists ${JSON.stringify(shown)}, want ${JSON.stringify(expected)}`);
  for (const r of rows) {
    if (r.cells.length !== 5) fail(`row ${r.name} has ${r.cells.length} cells`);
    const [, env, model, hops, weakest] = r.cells;
    if (!env || env === '—') fail(`row ${r.name} has no environment`);
    if (!model || model === '—') fail(`row ${r.name} names no model`);
    if (!(parseInt(hops, 10) >= 2)) fail(`row ${r.name} has path length ${hops}`);
    if (!/^(verified|failed|unverifiable|unsigned)/.test(weakest)) fail(`row ${r.name} weakest evidence ${weakest}`);
  }
  const highlighted = () => page.evaluate(() => {
    const cy = window.modelgraphUI.app.view.cy;
    const ext = cy.extent();
    return {
      impacted: cy.nodes('.impacted').filter((n) => n.visible()).map((n) => n.data('name')),
      offscreen: cy.nodes(':visible').filter((n) => { const p = n.position(); return p.x < ext.x1 || p.x > ext.x2 || p.y < ext.y1 || p.y > ext.y2; }).map((n) => n.data('name')),
      hidden: cy.elements('.hidden').length,
      dim: cy.elements('.dim').length,
      onpath: cy.edges('.onpath').filter((e) => e.visible()).length,
    };
  });
  let lit = await highlighted();
  if (!sameSet(lit.impacted, expected)) fail(`graph highlights ${JSON.stringify(lit.impacted)}, want ${JSON.stringify(expected)}`);
  if (lit.onpath < expected.length) fail(`only ${lit.onpath} edges highlighted on the paths`);
  if (lit.offscreen.length) fail(`drawn off screen in the impact view: ${lit.offscreen.join(', ')}`);
  step(`${rows.length} deployments listed and highlighted; ${lit.hidden} elements off the paths hidden`);
  // Toggling re-lays out and re-fits the view (animated): poll until it
  // settles rather than reading it mid-animation on a busy machine.
  const settle = async (ok) => {
    let v = await highlighted();
    for (let i = 0; i < 50 && !ok(v); i++) {
      await page.waitForTimeout(100);
      v = await highlighted();
    }
    return v;
  };
  await page.check('#impact-context');
  lit = await settle((v) => v.hidden === 0 && v.dim > 0 && sameSet(v.impacted, expected));
  if (lit.hidden !== 0 || lit.dim === 0 || !sameSet(lit.impacted, expected)) fail(`"show the rest" left ${lit.hidden} hidden, ${lit.dim} dimmed`);
  await page.uncheck('#impact-context');
  lit = await settle((v) => sameSet(v.impacted, expected) && !v.offscreen.length);
  if (!sameSet(lit.impacted, expected) || lit.offscreen.length) fail(`the impact view did not come back after hiding the rest again (off screen: ${lit.offscreen.join(', ')})`);

  await page.waitForTimeout(300); // let the canvas paint the final frame
  await page.screenshot({ path: shot, fullPage: false });
  step(`screenshot ${shot}`);

  step('AI-BOM download from a deployment');
  await page.click(`#impact-table tbody tr[data-deployment="${expected[0]}"]`);
  await page.click('#tab-details');
  await page.waitForSelector('#aibom-link');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#aibom-link')]);
  const path = await dl.path();
  const bom = JSON.parse(await readFile(path, 'utf8'));
  if (bom.bomFormat !== 'CycloneDX' || !Array.isArray(bom.components)) fail(`AI-BOM download is not a CycloneDX BOM: ${JSON.stringify(bom).slice(0, 200)}`);
  step(`AI-BOM ${dl.suggestedFilename()}: CycloneDX ${bom.specVersion}, ${bom.components.length} components`);
});
