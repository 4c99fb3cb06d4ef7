// Builds the page into ../dist: one minified script and one stylesheet with
// content-hashed names (served as immutable by internal/ui), and index.html
// pointing at them (served no-cache). Everything is local: the page makes no
// request outside the server that serves it.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

// sourcesDigest fingerprints what the build reads, so that a Go test
// (internal/ui TestDistMatchesSources) notices a dist/ not rebuilt after a
// source change. Same algorithm there: sorted slash paths, each hashed as
// "path\nlength\n" then its bytes. Tests (*.test.mjs) do not shape dist.
async function sourcesDigest() {
  const files = ['build.mjs', 'package.json', 'package-lock.json'];
  for (const f of await readdir(path.join(here, 'src'), { recursive: true })) {
    const rel = `src/${f.split(path.sep).join('/')}`;
    if (!rel.endsWith('.test.mjs') && (await stat(path.join(here, rel))).isFile()) files.push(rel);
  }
  files.sort();
  const h = createHash('sha256');
  for (const f of files) {
    const b = await readFile(path.join(here, f));
    h.update(`${f}\n${b.length}\n`);
    h.update(b);
  }
  return `sha256:${h.digest('hex')}`;
}
const dist = path.resolve(here, '..', 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });

const res = await build({
  entryPoints: { app: path.join(here, 'src', 'main.js'), style: path.join(here, 'src', 'style.css') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  outdir: dist,
  entryNames: '[name]-[hash]',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const out = Object.keys(res.metafile.outputs).map((f) => path.basename(f));
const js = out.find((f) => f.startsWith('app-') && f.endsWith('.js'));
const css = out.find((f) => f.startsWith('style-') && f.endsWith('.css'));
if (!js || !css) throw new Error(`build: missing outputs in ${out.join(', ')}`);

const icon = await readFile(path.join(here, 'src', 'favicon.svg'));
const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
await writeFile(path.join(dist, iconName), icon);

const html = (await readFile(path.join(here, 'src', 'index.html'), 'utf8'))
  .replace('{{JS}}', js).replace('{{CSS}}', css).replace('{{ICON}}', iconName)
  .replace('{{SOURCES}}', await sourcesDigest());
if (html.includes('{{')) throw new Error('build: index.html has an unreplaced placeholder');
await writeFile(path.join(dist, 'index.html'), html);

for (const f of (await readdir(dist)).sort()) {
  const b = await readFile(path.join(dist, f));
  console.log(`${f}\t${b.length} bytes`);
}
