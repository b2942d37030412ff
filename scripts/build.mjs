// Type-check src/ with tsc and emit plain ESM into build/, then let ncc bundle the
// emitted JS. ncc cannot compile .ts with imports that carry a .ts extension, and a
// CJS bundle of @actions/core 3 (ESM-only) builds fine and then fails at run time,
// so the bundle is ESM (package.json "type": "module" → dist/package.json).
import { execFileSync } from 'node:child_process';
import { rmSync, renameSync, existsSync, readdirSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
rmSync('build', { recursive: true, force: true });
run('npx', ['tsc', '-p', 'tsconfig.build.json']);
for (const entry of ['main', 'post']) {
  const out = `build/ncc-${entry}`;
  run('npx', ['ncc', 'build', `build/${entry}.js`, '-o', out, '-m', '-s', '--no-source-map-register', '-q', '--license', 'licenses.txt']);
}
rmSync('dist', { recursive: true, force: true });
run('mkdir', ['-p', 'dist']);
renameSync('build/ncc-main/index.js', 'dist/index.js');
renameSync('build/ncc-main/index.js.map', 'dist/index.js.map');
renameSync('build/ncc-main/package.json', 'dist/package.json');
renameSync('build/ncc-main/licenses.txt', 'dist/licenses.txt');
renameSync('build/ncc-post/index.js', 'dist/post.js');
renameSync('build/ncc-post/index.js.map', 'dist/post.js.map');
for (const dir of ['build/ncc-main', 'build/ncc-post']) {
  const extra = existsSync(dir) ? readdirSync(dir).filter((f) => !['package.json', 'licenses.txt'].includes(f)) : [];
  if (extra.length) throw new Error(`ncc emitted unexpected files in ${dir}: ${extra.join(', ')}`);
}
rmSync('build', { recursive: true, force: true });
