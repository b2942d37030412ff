// Type-check src/ with tsc and emit plain ESM into build/, then let ncc bundle the
// emitted JS. ncc cannot compile .ts whose imports carry a .ts extension, and a CJS
// bundle of @actions/core 3 (ESM-only) builds fine and then fails at run time, so the
// bundle is ESM (package.json "type": "module" → dist/package.json).
// ncc may emit chunks beside an entry (e.g. the `open` package that @azure/identity loads
// lazily for interactive login, never used here): they are copied into dist/ as they are,
// since the entry imports them by relative name.
// The new dist/ is assembled aside and swapped in at the end, so a test running dist/
// meanwhile never finds it half-written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { writeLicenses } from './licenses.mjs';
import { trimSourceMap } from './trim-source-map.mjs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
const next = 'build/dist';
rmSync('build', { recursive: true, force: true });
run('npx', ['tsc', '-p', 'tsconfig.build.json']);
mkdirSync(next);
for (const [entry, target] of [['main', 'index.js'], ['post', 'post.js']]) {
  const out = `build/ncc-${entry}`;
  run('npx', ['ncc', 'build', `build/${entry}.js`, '-o', out, '-m', '-s', '--no-source-map-register', '-q']);
  for (const file of readdirSync(out)) {
    const renamed = file.replace(/^index\.js/, target);
    if (entry === 'post' && file === 'package.json') continue; // same as main's
    if (existsSync(`${next}/${renamed}`)) throw new Error(`ncc output ${out}/${file} would overwrite dist/${renamed}`);
    renameSync(`${out}/${file}`, `${next}/${renamed}`);
    if (renamed.endsWith('.map')) trimSourceMap(`${next}/${renamed}`);
  }
}
writeLicenses(`${next}/licenses.txt`);
if (existsSync('dist')) renameSync('dist', 'build/dist-old');
renameSync(next, 'dist');
rmSync('build', { recursive: true, force: true });
