// The dry run proves the webhook mutates pods only when it shows both signs of the
// mutation: AZURE_FEDERATED_TOKEN_FILE in the env and a projected token volume. Either
// alone is a pod whose workload would still fail (no token, or nowhere to read it).
import { describe, expect, it } from 'vitest';
import { describeMutation } from '../../src/kube/preflight/dry-run.ts';
import type { DryRunPodResult } from '../../src/kube/port.ts';

const AUDIENCE = 'api://AzureADTokenExchange';
const env = (...names: string[]) => names.map((name) => ({ name, value: 'x' }));
const tokenVolume = { name: 'azure-identity-token', projectedTokens: [{ audience: AUDIENCE, path: 'azure-identity-token', expirationSeconds: 3600 }] };
const pod = (envNames: string[], volumes: DryRunPodResult['volumes']): DryRunPodResult => ({
  containers: [{ name: 'probe', env: env(...envNames), volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: '/var/run/secrets/azure/tokens' })) }],
  volumes,
});
const ALL_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'];

describe('what counts as a mutated pod in the dry run', () => {
  it('the env and the projected token together: mutated', () => {
    expect(describeMutation(pod(ALL_ENV, [tokenVolume]), AUDIENCE).mutated).toBe(true);
  });

  it('the injected env without a projected token volume: not mutated', () => {
    expect(describeMutation(pod(ALL_ENV, []), AUDIENCE)).toMatchObject({ mutated: false, tokens: [] });
  });

  it('a projected token volume without AZURE_FEDERATED_TOKEN_FILE: not mutated', () => {
    const m = describeMutation(pod(['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_AUTHORITY_HOST'], [tokenVolume]), AUDIENCE);
    expect(m.mutated).toBe(false);
    expect(m.tokens).toHaveLength(1);
  });

  it('a projected token for another audience does not count', () => {
    const other = { name: 'vault-token', projectedTokens: [{ audience: 'vault', path: 'token' }] };
    expect(describeMutation(pod(ALL_ENV, [other]), AUDIENCE).mutated).toBe(false);
  });

  it("a binding with a custom audience is not mutated by a token with the webhook's default audience, though the webhook reached the pod", () => {
    const m = describeMutation(pod(ALL_ENV, [tokenVolume]), 'api://contoso-payments');
    expect(m).toMatchObject({ injected: true, mutated: false, audienceMatches: false, audiences: [AUDIENCE] });
  });

  it("a token without an audience has the API server's default, never the binding's", () => {
    const bare = { name: 'azure-identity-token', projectedTokens: [{ path: 'azure-identity-token' }] };
    const m = describeMutation(pod(ALL_ENV, [bare]), AUDIENCE);
    expect(m).toMatchObject({ injected: true, mutated: false, audiences: ["the API server's default"] });
  });
});
