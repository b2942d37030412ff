// The hash of what dist/ is built from, written into dist/ by the build and checked by the
// end-to-end helper (test/e2e/run-action.ts): the e2e tests run dist/, so after an edit of
// src/ without a rebuild they would test the old bundle and pass or fail for nothing.
// Git's list of tracked files, read from the working tree: a fresh clone hashes exactly
// what the committer's build hashed, and an edited file changes the hash at once.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the build writes the hash, relative to the repository root. */
export const BUILD_INPUTS_FILE = 'dist/build-inputs.sha256';

/** Everything that decides the bundle: the sources, the schema, the dependencies, the build. */
const INPUTS = ['src', 'schema', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'scripts/build-inputs.ts', 'scripts/licenses.mjs', 'scripts/schema-validator.mjs', 'scripts/trim-source-map.mjs'];

export function buildInputsHash(root: string): string {
  const files = execFileSync('git', ['ls-files', '-z', '--', ...INPUTS], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean)
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    let content: Buffer;
    try {
      content = readFileSync(join(root, file));
    } catch {
      continue; // deleted in the working tree, not yet in git: not an input any more
    }
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}
