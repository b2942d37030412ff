// Reading the mapping file safely. The file comes from the repository, so on a pull request
// from a fork its author chooses what it is: a symlink to a runner file (whose values the
// validator would then quote back into the log), a device that never ends (/dev/urandom
// read 1.3 GB), a pipe that never opens. Only a regular file is read, at most 1 MiB + 1.
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/**
 * A hand-written mapping is a few KiB; one past this is generated or not a mapping at all,
 * and parsing, validating and checking it could keep a run busy for minutes.
 */
export const MAX_MAPPING_BYTES = 1024 * 1024;

export type MappingRead = { text: string } | { message: string };

function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The mapping's text, or why it was not read. `workspace` (GITHUB_WORKSPACE): a path that
 * reaches outside it through a symlink is refused; a plain path outside it stays allowed
 * (the workflow's author wrote it, not a pull request).
 */
export async function readMappingFile(path: string, label: string, workspace?: string): Promise<MappingRead> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    return { message: readFailure(label, path, error) };
  }
  if (workspace !== undefined && real !== resolve(path)) {
    const realWorkspace = await realpath(workspace).catch(() => resolve(workspace));
    if (!inside(realWorkspace, real))
      return { message: `mapping file ${label} is a symbolic link that leads outside the workspace (GITHUB_WORKSPACE); refusing to read it — keep the mapping itself in the repository` };
  }
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever. The type is
  // checked on the open descriptor, so what is read is what was checked.
  let file;
  try {
    file = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { message: readFailure(label, path, error) };
  }
  try {
    const info = await file.stat();
    if (info.isDirectory()) return { message: `mapping file ${label} is a directory, not a file` };
    if (!info.isFile()) return { message: `mapping file ${label} is not a regular file (a device, pipe or socket); refusing to read it` };
    if (info.size > MAX_MAPPING_BYTES) return { message: tooLarge(label, info.size) };
    // Bounded whatever the size said: a file can grow between stat and read.
    const buffer = Buffer.alloc(MAX_MAPPING_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_MAPPING_BYTES) return { message: tooLarge(label, length) };
    return { text: buffer.subarray(0, length).toString('utf8') };
  } catch (error) {
    return { message: readFailure(label, path, error) };
  } finally {
    await file.close();
  }
}

/** `bytes` is the size when known; MAX + 1 when the read stopped at the bound. */
function tooLarge(label: string, bytes: number): string {
  const size = bytes === MAX_MAPPING_BYTES + 1 ? `more than ${MAX_MAPPING_BYTES / 1024}` : String(Math.ceil(bytes / 1024));
  return `mapping file ${label} is ${size} KiB; the limit is ${MAX_MAPPING_BYTES / 1024} KiB — a mapping this large is almost certainly not hand-written; split it or check what generated it`;
}

function readFailure(label: string, path: string, error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT')
    return `mapping file ${label} not found (looked for ${resolve(path)}; the mapping-file input is relative to the repository checkout, GITHUB_WORKSPACE)`;
  if (code === 'EISDIR') return `mapping file ${label} is a directory, not a file`;
  if (code === 'EACCES') return `cannot read mapping file ${label}: permission denied`;
  if (code === 'ELOOP') return `mapping file ${label} is a loop of symbolic links`;
  return `cannot read mapping file ${label}: ${code ?? (error as Error).message}`;
}
