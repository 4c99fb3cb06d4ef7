// Drives the lineage page to a deployment's MLSecOps posture: search the
// deployment, read the posture badge and the "what is missing" panel in
// the Details pane, compare them with what the API answered, and save a
// screenshot.
//
//   node posture.mjs <base-url> <screenshot.png> --ref <deployment> --level L2 --missing '<json array of control ids>'
//
// Run by e2e_test.go (TestUIPostureOnDemo); exits non-zero with a reason.
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const positional = [];
const opts = {};
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('--')) opts[args[i].slice(2)] = args[++i];
  else positional.push(args[i]);
}
const [base, shot] = positional;
if (!base || !shot || !opts.ref || !opts.level) {
  console.error('usage: node posture.mjs <base-url> <screenshot.png> --ref <deployment> --level L<n> --missing <json>');
  process.exit(2);
}
const missing = JSON.parse(opts.missing || '[]');
const step = (s) => console.log(`posture: ${s}`);
const fail = (s) => {
  throw new Error(s);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
});
let code = 0;
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1600, height: 920 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  step(`open ${base}/ui and search ${opts.ref}`);
  await page.goto(`${base}/ui/`, { waitUntil: 'load' });
  await page.fill('#q', opts.ref);
  await page.press('#q', 'Enter');
  await page.waitForSelector('body[data-state="ready"]');
  await page.waitForSelector('#posture-level');
  const level = (await page.textContent('#posture-level')).trim();
  step(`badge ${level}`);
  if (level !== opts.level) fail(`posture badge says ${level}, the API ${opts.level}`);
  const shown = await page.$$eval('#posture-missing li', (els) => els.map((e) => e.dataset.control));
  step(`missing: ${shown.join(', ') || '(none)'}`);
  if (JSON.stringify(shown) !== JSON.stringify(missing)) fail(`"what is missing" lists ${JSON.stringify(shown)}, the API ${JSON.stringify(missing)}`);
  for (const id of missing) {
    const fix = await page.textContent(`#posture-missing li[data-control="${id}"] .fix`);
    if (!fix || fix.length < 10) fail(`missing control ${id} shows no fix`);
  }
  const csp = await page.evaluate(() => window.__cspViolations);
  if (csp.length) fail(`Content-Security-Policy violations: ${csp.join('; ')}`);
  await page.evaluate(() => document.getElementById('posture').scrollIntoView());
  await page.screenshot({ path: shot });
  step(`screenshot ${shot}`);
  if (problems.length) fail(problems.join('\n'));
} catch (e) {
  console.error(`posture: FAIL: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
