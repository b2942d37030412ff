import { describe, expect, it } from 'vitest';
import { parseSettings } from '../src/settings.ts';

const from = (inputs: Record<string, string>) => parseSettings((n) => inputs[n] ?? '');

describe('inputs', () => {
  it('defaults match action.yml', () => {
    const s = from({});
    expect(s).toMatchObject({ mode: 'plan', mappingFile: '.github/workload-identity.yaml', verify: true, verifyTimeoutSeconds: 180, concurrency: 8, prune: false });
    expect(s.azure).toMatchObject({ armEndpoint: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com' });
  });

  it('an unknown mode names the input and the valid modes', () => {
    expect(() => from({ mode: 'deploy' })).toThrow("Input 'mode': unknown mode 'deploy'; expected one of validate, plan, apply, verify, discover");
  });

  it('a non-numeric timeout names the input', () => {
    expect(() => from({ 'verify-timeout': '3m' })).toThrow("Input 'verify-timeout': expected a whole number, got '3m'");
  });

  it('concurrency below 1 is refused', () => {
    expect(() => from({ concurrency: '0' })).toThrow("Input 'concurrency'");
  });

  it('a sovereign cloud picks its endpoints, explicit endpoints win', () => {
    expect(from({ 'azure-cloud': 'AzureUSGovernment' }).azure.armEndpoint).toBe('https://management.usgovcloudapi.net');
    expect(from({ 'arm-endpoint': 'https://127.0.0.1:8443/' }).azure.armEndpoint).toBe('https://127.0.0.1:8443');
  });

  it('an http endpoint is refused: the SDKs never send bearer tokens over http', () => {
    expect(() => from({ 'authority-host': 'http://login.local' })).toThrow("Input 'authority-host': must be https");
  });

  it('client id without tenant id is refused', () => {
    expect(() => from({ 'azure-client-id': 'abc' })).toThrow("Input 'azure-tenant-id'");
  });

  it('a boolean input that is not true/false is refused', () => {
    expect(() => from({ prune: 'yes' })).toThrow("Input 'prune': expected true or false, got 'yes'");
  });
});
