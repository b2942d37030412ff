import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parallelism, parseSettings } from '../src/settings.ts';

const from = (inputs: Record<string, string>) => parseSettings((n) => inputs[n] ?? '');

describe('inputs', () => {
  it('defaults match action.yml', () => {
    // The runner passes action.yml's default for an input the workflow leaves out; code
    // falls back when an input is empty (a run outside the runner, an explicit ''). Both
    // must give the same settings, and every input the code reads must be declared.
    const declared = (parseYaml(readFileSync(resolve(import.meta.dirname, '../action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> }).inputs;
    const read = new Set<string>();
    const fromActionYml = parseSettings((name) => {
      read.add(name);
      const value = declared[name]?.default ?? '';
      return value === '${{ github.token }}' ? '' : value;
    });
    expect([...read].filter((name) => !(name in declared))).toEqual([]);
    expect(fromActionYml).toEqual(from({}));
    expect(from({})).toMatchObject({ mode: 'plan', mappingFile: '.github/workload-identity.yaml', verify: true, prune: false });
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

  it("the login audience and the verification scope follow azure-cloud unless given", () => {
    expect(from({}).azure.audience).toBe('api://AzureADTokenExchange');
    expect(from({ 'azure-cloud': 'AzureUSGovernment' }).azure.audience).toBe('api://AzureADTokenExchangeUSGov');
    expect(from({ 'azure-cloud': 'AzureChinaCloud' }).azure.audience).toBe('api://AzureADTokenExchangeChina');
    expect(from({ 'azure-cloud': 'AzureChinaCloud', audience: 'api://custom' }).azure.audience).toBe('api://custom');
    expect(from({}).verifyScope).toBe('https://management.azure.com/.default');
    expect(from({ 'azure-cloud': 'AzureUSGovernment' }).verifyScope).toBe('https://management.usgovcloudapi.net/.default');
    expect(from({ 'azure-cloud': 'AzureChinaCloud' }).verifyScope).toBe('https://management.chinacloudapi.cn/.default');
    expect(() => from({ audience: 'api://a b' })).toThrow("Input 'audience'");
  });

  it("concurrency is auto unless a number from 1 to 64 overrides it; reads then use that number, 8 with auto", () => {
    expect(from({}).concurrency).toBe('auto');
    expect(from({ concurrency: 'auto' }).concurrency).toBe('auto');
    expect(from({ concurrency: '12' }).concurrency).toBe(12);
    expect(parallelism(from({}).concurrency)).toBe(8);
    expect(parallelism(from({ concurrency: '12' }).concurrency)).toBe(12);
    expect(() => from({ concurrency: '65' })).toThrow("Input 'concurrency': expected auto or a number from 1 to 64, got '65'");
    expect(() => from({ concurrency: 'fast' })).toThrow("Input 'concurrency': expected auto or a number from 1 to 64, got 'fast'");
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
