// dist/ holds two bundles, the core and the connected part (src/connected.ts), and a module
// both import exists once in each. An error made by the connected part's copy of a class
// must still be recognised by the core's copy: a 404 stays "not found", a bad kubeconfig
// stays a message for the user and not "Unexpected error (please report it)". A module
// imported with a query string is a second copy of it here, as it is in the other bundle.
import { describe, expect, it } from 'vitest';
import { AzureCallError, isForbidden, isNotFound, toAzureError } from '../src/azure/errors.ts';
import { describeFailure } from '../src/failure.ts';
import { isKubeApiError, KubeApiError } from '../src/kube/port.ts';

type Errors = typeof import('../src/azure/errors.ts');
type Credential = typeof import('../src/azure/credential.ts');
type KubePort = typeof import('../src/kube/port.ts');
type KubeConfig = typeof import('../src/kube/config-error.ts');

async function otherCopy<T>(path: string): Promise<T> {
  return (await import(/* @vite-ignore */ `${path}?other-bundle`)) as T;
}

describe('errors crossing from the connected bundle to the core', () => {
  it('an ARM 404 or 403 made by the other copy is still not-found or forbidden, and passes through toAzureError unchanged', async () => {
    const other = await otherCopy<Errors>('../src/azure/errors.ts');
    expect(other.AzureCallError).not.toBe(AzureCallError); // really two copies
    const missing = new other.AzureCallError('GET identity', 'ResourceNotFound', 'gone', { statusCode: 404 });
    const denied = new other.AzureCallError('GET identity', 'AuthorizationFailed', 'no', { statusCode: 403 });
    expect(missing).toBeInstanceOf(AzureCallError);
    expect(isNotFound(missing)).toBe(true);
    expect(isForbidden(denied)).toBe(true);
    expect(toAzureError('PUT fic', missing)).toBe(missing);
  });

  it('a login failure from the other copy is an AzureCallError here, but a plain AzureCallError is not a login failure', async () => {
    const other = await otherCopy<Credential>('../src/azure/credential.ts');
    const { AzureLoginError } = await import('../src/azure/credential.ts');
    const login = new other.AzureLoginError('AADSTS70021', 'no matching federated credential');
    expect(login).toBeInstanceOf(AzureCallError);
    expect(login).toBeInstanceOf(AzureLoginError);
    expect(new AzureCallError('GET', 'X', 'y')).not.toBeInstanceOf(AzureLoginError);
  });

  it('a Kubernetes API error and a kubeconfig error from the other copy reach the user as their message', async () => {
    const kube = await otherCopy<KubePort>('../src/kube/port.ts');
    const config = await otherCopy<KubeConfig>('../src/kube/config-error.ts');
    const conflict = new kube.KubeApiError('create ServiceAccount', 'already exists', 409, 'AlreadyExists');
    expect(isKubeApiError(conflict)).toBe(true);
    expect(conflict).toBeInstanceOf(KubeApiError);
    expect(describeFailure(conflict)).toBe('already exists');
    expect(describeFailure(new config.KubeConfigError('no kubeconfig found: set the kubeconfig input'))).toBe('no kubeconfig found: set the kubeconfig input');
    expect(describeFailure(new Error('boom'))).toMatch(/^Unexpected error \(please report it\): Error: boom/);
  });

  it('unrelated values are not taken for these errors', () => {
    for (const value of [undefined, null, 'ResourceNotFound', { statusCode: 404, code: 'ResourceNotFound' }, new Error('x')]) {
      expect(value instanceof AzureCallError).toBe(false);
      expect(isNotFound(value)).toBe(false);
      expect(isKubeApiError(value)).toBe(false);
    }
  });
});
