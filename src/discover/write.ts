// Where `discover` may write its mapping: inside the workspace only, and never through a
// symlink — a checked-out repository can hold a link named like the output that points at
// ~/.ssh/config or the runner's own files, and the action must not be the one to follow it.
import { constants, lstatSync, openSync, realpathSync, writeSync, closeSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

export class OutputPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputPathError';
  }
}

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

/** Writes `text` to `output` (relative to the workspace); returns the absolute path written. */
export function writeInsideWorkspace(workspace: string, output: string, text: string): string {
  const root = realpathSync(workspace);
  const target = resolve(root, output);
  if (!inside(root, target)) throw new OutputPathError(`discover-output '${output}' is outside the workspace (${root}): write the mapping inside the repository`);
  let parent: string;
  try {
    parent = realpathSync(dirname(target));
  } catch {
    throw new OutputPathError(`discover-output '${output}': its folder does not exist in the workspace`);
  }
  // A symlinked folder on the way may lead out of the workspace.
  if (!inside(root, parent)) throw new OutputPathError(`discover-output '${output}' leads outside the workspace through a symbolic link (${parent})`);
  const path = resolve(parent, target.slice(dirname(target).length + 1));
  try {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) throw new OutputPathError(`discover-output '${output}' is a symbolic link: refusing to write through it`);
    if (!stat.isFile()) throw new OutputPathError(`discover-output '${output}' exists and is not a regular file`);
  } catch (err) {
    if (err instanceof OutputPathError) throw err;
    // ENOENT: a new file, created below
  }
  // O_NOFOLLOW closes the race between the check above and the open.
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return path;
}
