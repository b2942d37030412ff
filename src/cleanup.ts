// Things this run must undo whatever happens (a temp kubeconfig, verification pods):
// run on the normal path, on a thrown error and on SIGINT/SIGTERM (a cancelled workflow
// sends SIGINT, then SIGTERM, then kills). The post step is the last line of defence.
// An object, not module state: main creates it and hands it to the connected bundle, so
// there is exactly one registry however many bundles load this file.
type Cleanup = () => Promise<void> | void;

export interface CleanupRegistry {
  /** Registers an undo step; the returned function unregisters it (the work was undone already). */
  add(name: string, fn: Cleanup): () => void;
  /** Runs every registered step once, newest first; a failing one does not stop the others. */
  runAll(warn: (message: string) => void): Promise<void>;
}

export function createCleanupRegistry(): CleanupRegistry {
  const cleanups: { name: string; fn: Cleanup }[] = [];
  return {
    add(name, fn) {
      const entry = { name, fn };
      cleanups.push(entry);
      return () => {
        const i = cleanups.indexOf(entry);
        if (i >= 0) cleanups.splice(i, 1);
      };
    },
    async runAll(warn) {
      while (cleanups.length) {
        const { name, fn } = cleanups.pop()!;
        try {
          await fn();
        } catch (err) {
          warn(`cleanup '${name}' failed: ${(err as Error).message}`);
        }
      }
    },
  };
}
