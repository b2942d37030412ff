// What a container sees, computed the way the kubelet does: which commands the emulator
// can really run, $(VAR) expansion, downward API values, and image reference normalisation.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Pod } from './types.ts';

/** `node`, `/usr/bin/node`, `nodejs`: a command the emulator can really run. */
export function isNodeCommand(argv: string[]): boolean {
  const first = argv[0];
  return !!first && ['node', 'nodejs'].includes(basename(first));
}

/** $(VAR) expansion of command, args and env values (https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/). */
export function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(env, name) ? env[name]! : m;
  });
}

/** `mcr.microsoft.com/x:1` stays; `nginx` → `docker.io/library/nginx:latest` (containerd's normalisation). */
export function qualifiedImage(image: string): string {
  let ref = image;
  const first = ref.split('/')[0]!;
  if (!ref.includes('/')) ref = `docker.io/library/${ref}`;
  else if (!first.includes('.') && !first.includes(':') && first !== 'localhost') ref = `docker.io/${ref}`;
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  if (!last.includes(':') && !ref.includes('@')) ref += ':latest';
  return ref;
}

/** Downward API fieldRef values (https://kubernetes.io/docs/concepts/workloads/pods/downward-api/). */
export function fieldRefValue(pod: Pod, path: string): string {
  const m = path.match(/^metadata\.(labels|annotations)\['(.+)'\]$/);
  if (m) return ((m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations) ?? {})[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
    case 'metadata.annotations':
      return Object.entries(pod.metadata.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).join('\n');
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.hostIP':
      return pod.status?.hostIP ?? '';
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    default:
      return '';
  }
}

export function writeFile(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode: 0o644 });
}
