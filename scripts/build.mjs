// Type-check src/ with tsc and emit plain ESM into build/, then let ncc bundle the
// emitted JS. ncc cannot compile .ts whose imports carry a .ts extension, and a CJS
// bundle of @actions/core 3 (ESM-only) builds fine and then fails at run time, so the
// bundle is ESM (package.json "type": "module" → dist/package.json).
// Two bundles (docs/DESIGN.md, "Bundles"), and the two entry files action.yml names:
//   core.js       inputs, mapping, validate, plan logic, report, sink, cleanups, post step
//   connected.js  the SDKs (Azure, Kubernetes, GitHub), imported at run time by the
//                 core through a specifier ncc does not follow (src/load-connected.ts)
//   index.js, post.js   import core.js and call their step (one core for both steps)
// `open` is left out: @azure/identity imports it lazily for interactive browser login,
// which the action never does (ncc would ship it as a chunk plus the xdg-open script).
// The new dist/ is assembled aside and swapped in at the end, so a test running dist/
// meanwhile never finds it half-written.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { buildInputsHash, BUILD_INPUTS_FILE } from './build-inputs.ts';
import { writeLicenses } from './licenses.mjs';
import { generateSchemaValidator, SCHEMA_VALIDATOR } from './schema-validator.mjs';
import { trimSourceMap } from './trim-source-map.mjs';

const ENTRIES = [
  { entry: 'core', target: 'core.js' },
  { entry: 'connected', target: 'connected.js' },
];
const STEPS = {
  'index.js': "// The action's main step (action.yml runs.main): src/main.ts in the core bundle.\nimport { run } from './core.js';\n\nawait run();\n",
  'post.js': "// The action's post step (action.yml runs.post): src/post.ts in the core bundle.\nimport { runPostStep } from './core.js';\n\nrunPostStep();\n",
};
const EXTERNAL = ['open'];

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit' });
const next = 'build/dist';
rmSync('build', { recursive: true, force: true });
writeFileSync(SCHEMA_VALIDATOR, generateSchemaValidator());
run('npx', ['tsc', '-p', 'tsconfig.build.json']);
mkdirSync(next);
const contents = {};
for (const { entry, target } of ENTRIES) {
  const out = `build/ncc-${entry}`;
  run('npx', ['ncc', 'build', `build/${entry}.js`, '-o', out, '-m', '-s', '--no-source-map-register', '-q', ...EXTERNAL.flatMap((e) => ['-e', e])]);
  for (const file of readdirSync(out)) {
    const renamed = file.replace(/^index\.js/, target);
    if (entry !== 'core' && file === 'package.json') continue; // same as the core's
    if (existsSync(`${next}/${renamed}`)) throw new Error(`ncc output ${out}/${file} would overwrite dist/${renamed}`);
    if (!/\.js(\.map)?$|^package\.json$/.test(renamed)) throw new Error(`ncc emitted ${file} for ${entry}: dist/ ships only what a path loads`);
    renameSync(`${out}/${file}`, `${next}/${renamed}`);
    if (renamed.endsWith('.map')) {
      // The full map's sources name every bundled module: what licenses.txt lists per bundle.
      contents[renamed.replace(/\.map$/, '')] = JSON.parse(readFileSync(`${next}/${renamed}`, 'utf8')).sources;
      // Our own sources only, and not the generated schema validator (no one debugs it by line).
      trimSourceMap(`${next}/${renamed}`, (source) => !source.includes('node_modules') && !source.includes('.generated.'));
    }
  }
}
for (const [file, text] of Object.entries(STEPS)) writeFileSync(`${next}/${file}`, text);
writeLicenses(`${next}/licenses.txt`, contents);
// What this dist/ was built from: the e2e helper refuses a dist/ whose inputs changed since.
writeFileSync(`${next}/${BUILD_INPUTS_FILE.replace(/^dist\//, '')}`, `${buildInputsHash('.')}\n`);
if (existsSync('dist')) renameSync('dist', 'build/dist-old');
renameSync(next, 'dist');
rmSync('build', { recursive: true, force: true });
