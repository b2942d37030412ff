// dist/licenses.txt: what each bundle contains, then the license of every package bundled
// into dist/ (MIT and friends require shipping the notice with the code). ncc's own
// --license output is overwritten by the last chunk it emits, so it is written here, sorted,
// deterministic. A bundle's packages are read from its source map's sources
// (…/node_modules/<name>/…): exactly what ncc put in, including an optional package that a
// dependency requires when present (has-flag, from debug's supports-color, is one).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** name@version → { name, version, license, dir } of the packages a bundle's sources come from. */
function packagesIn(sources, into) {
  const ids = new Set();
  for (const source of sources) {
    const at = source.lastIndexOf('node_modules/');
    if (at < 0) continue;
    const rest = source.slice(at + 'node_modules/'.length).split('/');
    const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    // Sources are relative to build/ (…/node_modules/x/…): the package is under the project root.
    const dir = `${source.slice(source.indexOf('node_modules/'), at)}node_modules/${name}`;
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const id = `${name}@${manifest.version}`;
    ids.add(id);
    if (!into.has(id)) into.set(id, { license: manifest.license ?? 'UNKNOWN', dir });
  }
  return [...ids].sort((a, b) => a.localeCompare(b));
}

/** `contents`: bundle file name → its source map's `sources`. */
export function writeLicenses(target, contents) {
  const bundled = new Map();
  const header = Object.entries(contents).map(([bundle, sources]) => {
    const ids = packagesIn(sources, bundled);
    return `dist/${bundle} contains:\n${ids.map((id) => `  ${id}`).join('\n') || "  (no packages: only this action's code)"}`;
  });
  // Many packages ship the same text (every @azure/* one, the lodash.* ones): each text once,
  // under the packages that carry it.
  const byText = new Map();
  for (const [id, { license, dir }] of [...bundled.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const file = existsSync(dir) ? readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f)) : undefined;
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : '(no license file in the package)';
    const key = `${license}\n${text}`;
    byText.set(key, [...(byText.get(key) ?? []), id]);
  }
  const sections = [...byText.entries()].map(([key, ids]) => `${ids.join('\n')}\n${key}`);
  writeFileSync(target, `${header.join('\n\n')}\n\nLicenses\n========\n\n${sections.join('\n\n')}\n`);
}
