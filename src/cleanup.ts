// Things this run must undo whatever happens (a temp kubeconfig, verification pods):
// run on the normal path, on a thrown error and on SIGINT/SIGTERM (a cancelled workflow
// sends SIGINT, then SIGTERM, then kills). The post step is the last line of defence.
type Cleanup = () => Promise<void> | void;

const cleanups: { name: string; fn: Cleanup }[] = [];

export function onCleanup(name: string, fn: Cleanup): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

/** Runs every registered cleanup once, newest first; a failing one does not stop the others. */
export async function runCleanups(warn: (message: string) => void): Promise<void> {
  while (cleanups.length) {
    const { name, fn } = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      warn(`cleanup '${name}' failed: ${(err as Error).message}`);
    }
  }
}
