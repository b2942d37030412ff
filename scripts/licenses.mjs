// dist/licenses.txt: the licenses of every production dependency bundled into dist/
// (MIT and friends require shipping the notice with the code). ncc's own --license output
// is overwritten by the last chunk it emits, so it is written here, sorted, deterministic.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeLicenses(target) {
  const tree = JSON.parse(execFileSync('npm', ['ls', '--omit=dev', '--all', '--long', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const found = new Map();
  const walk = (deps = {}) => {
    for (const [name, dep] of Object.entries(deps)) {
      if (!dep.path || found.has(`${name}@${dep.version}`)) continue;
      found.set(`${name}@${dep.version}`, dep);
      walk(dep.dependencies);
    }
  };
  walk(tree.dependencies);
  const sections = [...found.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, dep]) => {
      const file = existsSync(dep.path) ? readdirSync(dep.path).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f)) : undefined;
      const text = file ? readFileSync(join(dep.path, file), 'utf8').trim() : '(no license file in the package)';
      return `${id}\n${dep.license ?? 'UNKNOWN'}\n${text}`;
    });
  writeFileSync(target, sections.join('\n\n') + '\n');
}
