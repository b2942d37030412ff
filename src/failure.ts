// How a thrown error reaches the user. Errors the action expects (bad input, a kubeconfig it
// cannot use, Azure or Kubernetes refusing a call) carry a message written for the user:
// shown alone. Anything else is a bug in the action: the stack is kept so it can be reported.
import { AzureCallError } from './azure/errors.ts';
import { KubeConfigError } from './kube/config-error.ts';
import { KubeApiError } from './kube/port.ts';
import { DeadlineError, FetchError, RequestTimeoutError } from './net/index.ts';
import { InputError } from './settings.ts';
import { DiscoverError } from './discover/run.ts';
import { OutputPathError } from './discover/write.ts';

const EXPECTED = [InputError, KubeConfigError, KubeApiError, AzureCallError, DeadlineError, RequestTimeoutError, FetchError, DiscoverError, OutputPathError];

export function describeFailure(err: unknown): string {
  if (EXPECTED.some((kind) => err instanceof kind)) return (err as Error).message;
  return `Unexpected error (please report it): ${(err as Error)?.stack ?? String(err)}`;
}
