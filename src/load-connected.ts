// Loads the connected bundle (connected.ts) at run time. The specifier is computed so that
// neither ncc nor tsc follows it: ncc would otherwise pull the SDKs into the core bundle
// (or emit them as an unminified chunk). Run from the sources (tests, scripts) the file
// beside this one is connected.ts; in dist/ it is connected.js.
import type * as Connected from './connected.ts';

export type ConnectedPart = typeof Connected;

export async function loadConnected(): Promise<ConnectedPart> {
  const file = import.meta.url.endsWith('.ts') ? './connected.ts' : './connected.js';
  const url = new URL(file, import.meta.url).href;
  try {
    return (await import(/* webpackIgnore: true */ url)) as ConnectedPart;
  } catch (err) {
    throw new Error(`could not load the action's connected part (${url}): ${(err as Error).message}; the action's dist/ is incomplete`, { cause: err });
  }
}
