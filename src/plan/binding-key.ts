// Which binding a change serves, as the plan and the report name it.
import type { ResolvedBinding } from '../mapping/types.ts';
import type { BindingKey } from './types.ts';

export function bindingKey(b: ResolvedBinding): BindingKey {
  return { environment: b.environment, namespace: b.namespace, serviceAccount: b.serviceAccount, at: b.at };
}
