// The kubeconfig input as text, whichever way the user stored it in a secret. Its own file:
// both bundles read it (the core to mask its secrets, the connected part to load it).

/**
 * Users paste a kubeconfig into a secret either as YAML or base64 of it
 * (`cat ~/.kube/config | base64`); accept both.
 */
export function decodeKubeconfigInput(content: string): string {
  const trimmed = content.trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed) && !trimmed.includes(':')) {
    const decoded = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/\bclusters\s*:/.test(decoded)) return decoded;
  }
  return content;
}
