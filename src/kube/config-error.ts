// A kubeconfig the action cannot use (none found, unreadable, no current context): its
// message says what to set. Apart from the client so the core bundle can recognise it
// without loading @kubernetes/client-node.
import { recognisedAcrossBundles } from '../cross-bundle.ts';

export class KubeConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeConfigError';
  }
}
recognisedAcrossBundles(KubeConfigError, 'KubeConfigError');
