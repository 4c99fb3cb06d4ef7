// The browser harness the page tests share (e2e.mjs, dashboard.mjs,
// posture.mjs): their command line, headless Chromium with one page that
// records what must not happen (page errors, console errors, requests to
// anywhere but the server, Content-Security-Policy violations), and the
// exit protocol: a line per step, then exit 0, or "<name>: FAIL: <reason>"
// and exit 1 on the first failed check or on any recorded problem.
import { chromium } from 'playwright-core';

// parseArgs splits argv into positional arguments and "--name value"
// options.
export function parseArgs(argv) {
  const positional = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) opts[argv[i].slice(2)] = argv[++i];
    else positional.push(argv[i]);
  }
  return { positional, opts };
}

// fail ends the test with a reason.
export const fail = (s) => {
  throw new Error(s);
};

// drive opens a page on Chromium ($CHROMIUM, else /usr/bin/chromium), runs
// body({ page, step }) and exits the process. base is the server's URL:
// requests to another origin are problems. Console errors are problems
// unless they match ignoreConsole (a RegExp: expected HTTP errors).
export async function drive(name, { base, viewport = { width: 1600, height: 920 }, ignoreConsole }, body) {
  const origin = new URL(base).origin;
  const step = (s) => console.log(`${name}: ${s}`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
  let code = 0;
  const problems = [];
  try {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !ignoreConsole?.test(m.text())) problems.push(`console error: ${m.text()}`);
    });
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.protocol !== 'blob:' && u.protocol !== 'data:' && u.origin !== origin) problems.push(`request outside the server: ${r.url()}`);
    });
    await page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await body({ page, step });
    for (const v of await page.evaluate(() => window.__cspViolations)) problems.push(`CSP violation: ${v}`);
    if (problems.length) fail(problems.join('\n'));
    step('ok');
  } catch (e) {
    console.error(`${name}: FAIL: ${e.message}`);
    if (problems.length) console.error(problems.join('\n'));
    code = 1;
  } finally {
    await browser.close();
  }
  process.exit(code);
}
