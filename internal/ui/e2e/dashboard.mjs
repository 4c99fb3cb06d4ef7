// Drives the landing dashboard of modelgraph's page in headless Chromium:
// every panel shows rows, the typeahead finds a fragment with a typo, a
// NOT_FOUND search offers "did you mean", the inventory downloads as CSV,
// and a dashboard row opens the lineage view of its node. Saves a
// screenshot of the dashboard.
//
//   node dashboard.mjs <base-url> <screenshot.png>
//
// Run by dashboard_test.go (TestUIDashboardOnDemo).
import { drive, fail } from './browser.mjs';
import { readFile } from 'node:fs/promises';

const [base, shot] = process.argv.slice(2);
if (!base || !shot) {
  console.error('usage: node dashboard.mjs <base-url> <screenshot.png>');
  process.exit(2);
}

await drive('dashboard', { base, viewport: { width: 1600, height: 1000 }, ignoreConsole: /status of 4\d\d/ }, async ({ page, step }) => {
  step(`open ${base}/ui/`);
  await page.goto(`${base}/ui/`, { waitUntil: 'load' });
  await page.waitForSelector('#dash .dpanel[data-panel="recent"]');
  const panels = {
    counts: '.count',
    verification: 'tr',
    weakest: '.drow',
    advisories: '.drow',
    unverified: '.drow',
    recent: '.drow',
  };
  for (const [p, sel] of Object.entries(panels)) {
    const n = await page.locator(`#dash .dpanel[data-panel="${p}"] ${sel}`).count();
    if (!n) fail(`panel ${p} is empty`);
    step(`panel ${p}: ${n} rows`);
  }
  const adv = await page.locator('#dash [data-panel="advisories"] .drow').first().textContent().then((t) => t.replace(/\u200b/g, ''));
  if (!adv.includes('AIXV-2024-0042')) fail(`advisories panel: ${adv}`);
  const unv = await page.locator('#dash [data-panel="unverified"] .drow').first().textContent().then((t) => t.replace(/\u200b/g, ''));
  if (!unv.includes('acme/shadow-chat')) fail(`unverified production models panel: ${unv}`);
  const weak = await page.locator('#dash [data-panel="weakest"] .drow').first().textContent().then((t) => t.replace(/\u200b/g, ''));
  if (!weak.includes('shadow-chat') || !weak.includes('unsigned')) fail(`weakest panel should start with the unsigned shadow deployment: ${weak}`);
  await page.waitForTimeout(200);
  await page.screenshot({ path: shot, fullPage: false });
  step(`screenshot ${shot}`);

  step('inventory CSV');
  await page.selectOption('#inv-kind', 'Deployment');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#inv-csv')]);
  const csv = (await readFile(await dl.path(), 'utf8')).trim().split(/\r?\n/);
  if (!csv[0].startsWith('id,kind,name') || csv.length !== 5 || !csv.some((l) => l.includes('production/eu-west-1/ml-serving/clinical-chat'))) {
    fail(`inventory CSV of deployments: ${csv.join(' | ')}`);
  }
  step(`inventory ${dl.suggestedFilename()}: ${csv.length - 1} rows`);

  step('typeahead with a typo');
  await page.fill('#q', 'clincal notes');
  await page.waitForSelector('#suggest li');
  const first = await page.locator('#suggest li').first().textContent().then((t) => t.replace(/\u200b/g, ''));
  if (!first.includes('acme/clinical-notes@v3')) fail(`typeahead first suggestion: ${first}`);
  await page.keyboard.press('Escape');

  step('did you mean on NOT_FOUND');
  await page.fill('#q', 'acme/clinical-notes-raw');
  await page.click('#find');
  await page.waitForSelector('#picks:not([hidden]) li[role="option"]');
  const did = await page.locator('#picks li[role="option"]').first().textContent().then((t) => t.replace(/\u200b/g, ''));
  if (!did.includes('acme/clinical-notes-raw@2024-01')) fail(`did you mean: ${did}`);
  await page.keyboard.press('Escape');

  step('a dashboard row opens the lineage');
  await page.goto(`${base}/ui/`, { waitUntil: 'load' });
  const row = page.locator('#dash [data-panel="advisories"] .drow').first();
  await row.waitFor();
  const ref = await row.getAttribute('data-ref');
  await row.click();
  await page.waitForFunction(() => document.body.dataset.state === 'impact-ready');
  const hash = await page.evaluate(() => location.hash);
  if (!hash.includes(`ref=${ref}`)) fail(`row click went to ${hash}, want ref=${ref}`);
  const roots = await page.evaluate(() => [...window.modelgraphUI.app.lin.roots]);
  if (!roots.includes(ref)) fail(`lineage roots ${roots}, want ${ref}`);
  const drawn = await page.evaluate(() => window.modelgraphUI.app.lin.nodes.size);
  if (drawn < 3) fail(`lineage of what the advisory affects drew ${drawn} nodes`);
  await page.waitForSelector('#impact-table tbody tr');
  const impacted = await page.locator('#impact-table tbody tr').count();
  if (impacted < 2) fail(`impact view lists ${impacted} deployments`);
  if (await page.isVisible('#dash')) fail('dashboard still visible over the lineage');
  step(`lineage of ${ref}: ${drawn} nodes`);
});
