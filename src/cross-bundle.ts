// dist/ holds two bundles, the core (core.js: main and post steps) and the connected part
// (connected.js), and a module both import is compiled into each: its classes exist twice.
// An error thrown by the connected copy of a class then fails `instanceof` against the
// core's copy. Classes whose instances cross that boundary (errors, mostly) are marked here
// with a symbol from the global registry, which both bundles share, and `instanceof` checks
// that mark: one meaning of "is an AzureCallError" wherever the check runs.

type Class = abstract new (...args: never[]) => object;

/**
 * Makes `value instanceof cls` hold for instances made by any bundle's copy of `cls`
 * (and of its subclasses). `kind` names the class; it must not depend on minified names.
 */
export function recognisedAcrossBundles(cls: Class, kind: string): void {
  const mark = Symbol.for(`workload-identity-action:${kind}`);
  Object.defineProperty(cls.prototype, mark, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: Class, value: unknown): boolean {
      // A subclass that is not marked itself inherits this method: fall back to the prototype chain for it.
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
    },
  });
}
