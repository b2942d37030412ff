// Do the bindings' namespaces exist? Nothing can be created in one that is missing or
// being deleted.
import type { PreflightCheck } from '../../plan/types.ts';
import type { NamespaceState } from '../port.ts';
import { check, lines, type PreflightContext } from './check.ts';

export async function checkNamespaces(ctx: PreflightContext): Promise<{ checks: PreflightCheck[]; absent: Set<string> }> {
  const { namespaces, bindingsIn, port, limit } = ctx;
  const checks: PreflightCheck[] = [];
  const existing = new Set<string>();
  /** Known not to exist, or being deleted: nothing can be created there. */
  const absent = new Set<string>();
  const found = new Map<string, NamespaceState | undefined | Error>();
  await Promise.all(
    namespaces.map((n) =>
      limit(async () => {
        try {
          found.set(n, await port.readNamespace(n));
        } catch (err) {
          found.set(n, err as Error);
        }
      }),
    ),
  );
  for (const n of namespaces) {
    const state = found.get(n);
    const bs = bindingsIn(n);
    if (state instanceof Error) {
      checks.push(check('namespace', false, 'warning', `Could not check that namespace ${n} exists: ${state.message}.`, undefined, bs[0]?.at));
    } else if (!state) {
      absent.add(n);
      checks.push(
        check(
          'namespace',
          false,
          'error',
          `Namespace ${n} does not exist in this cluster; ${bs.length === 1 ? 'the binding at' : 'the bindings at'} ${lines(bs)} name${bs.length === 1 ? 's' : ''} it.`,
          `Create the namespace (kubectl create namespace ${n}) or deploy the workload first, or correct the namespace in the mapping.`,
          bs[0]?.at,
        ),
      );
    } else if (state.phase === 'Terminating') {
      absent.add(n);
      checks.push(
        check('namespace', false, 'error', `Namespace ${n} is being deleted (Terminating); nothing can be created in it.`, 'Wait for the deletion to finish and recreate it, or remove its bindings from the mapping.', bs[0]?.at),
      );
    } else {
      existing.add(n);
    }
  }
  if (namespaces.length && existing.size === namespaces.length) {
    checks.push(check('namespace', true, 'info', `All ${namespaces.length} namespace(s) of the bindings exist.`));
  }
  return { checks, absent };
}
