// Dependency-free, so the post step can import it without bundling @kubernetes/client-node.

/** core.saveState key under which main records the temp kubeconfig for the post step. */
export const KUBECONFIG_STATE_KEY = 'kubeconfig-file';
