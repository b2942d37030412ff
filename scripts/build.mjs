// Type-check src/ with tsc and emit plain ESM into build/, then let ncc bundle the
// emitted JS. ncc cannot compile .ts whose imports carry a .ts extension, and a CJS
// bundle of @actions/core 3 (ESM-only) builds fine and then fails at run time, so the
// bundle is ESM (package.json "type": "module" → dist/package.json).
// ncc may emit chunks beside an entry (e.g. the `open` package that @azure/identity loads
// lazily for interactive login, never used here): they are copied into dist/ as they are,
// since the entry imports them by relative name.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { writeLicenses } from './licenses.mjs';
import { trimSourceMap } from './trim-source-map.mjs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
rmSync('build', { recursive: true, force: true });
run('npx', ['tsc', '-p', 'tsconfig.build.json']);
rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
for (const [entry, target] of [['main', 'index.js'], ['post', 'post.js']]) {
  const out = `build/ncc-${entry}`;
  run('npx', ['ncc', 'build', `build/${entry}.js`, '-o', out, '-m', '-s', '--no-source-map-register', '-q']);
  for (const file of readdirSync(out)) {
    const renamed = file.replace(/^index\.js/, target);
    if (entry === 'post' && file === 'package.json') continue; // same as main's
    if (existsSync(`dist/${renamed}`)) throw new Error(`ncc output ${out}/${file} would overwrite dist/${renamed}`);
    renameSync(`${out}/${file}`, `dist/${renamed}`);
    if (renamed.endsWith('.map')) trimSourceMap(`dist/${renamed}`);
  }
}
rmSync('build', { recursive: true, force: true });
writeLicenses('dist/licenses.txt');
