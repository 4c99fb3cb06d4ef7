// Drives the lineage page to a deployment's MLSecOps posture: search the
// deployment, read the posture badge and the "what is missing" panel in
// the Details pane, compare them with what the API answered, and save a
// screenshot.
//
//   node posture.mjs <base-url> <screenshot.png> --ref <deployment> --level L2 --missing '<json array of control ids>'
//
// Run by e2e_test.go (TestUIPostureOnDemo); exits non-zero with a reason.
import { drive, fail, parseArgs } from './browser.mjs';

const { positional, opts } = parseArgs(process.argv.slice(2));
const [base, shot] = positional;
if (!base || !shot || !opts.ref || !opts.level) {
  console.error('usage: node posture.mjs <base-url> <screenshot.png> --ref <deployment> --level L<n> --missing <json>');
  process.exit(2);
}
const missing = JSON.parse(opts.missing || '[]');

await drive('posture', { base }, async ({ page, step }) => {
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
  await page.evaluate(() => document.getElementById('posture').scrollIntoView());
  await page.screenshot({ path: shot });
  step(`screenshot ${shot}`);
});
