// A scenario's sandbox for one e2e test file (the demo's by default): started before its
// tests, stopped after them, together with the workspaces the file made.
import { resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { removeWorkspaces } from './run-action.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

export function useDemoSandbox(scenario = 'demo.yaml'): { readonly sb: Sandbox } {
  const demo = {} as { sb: Sandbox };
  beforeAll(async () => {
    demo.sb = await startSandbox({ scenario: resolve(ROOT, 'test/sandbox/scenarios', scenario) });
  });
  afterAll(async () => {
    await demo.sb?.stop();
    removeWorkspaces();
  });
  return demo;
}
