/**
 * @module
 * What `tokens/` contributes to the configuration check (`http/config-check.ts`): the signing
 * keys, parsed as they sign (`keyRing`), and the lifetimes (`lifetimes.ts`).
 */
import type { ConfigCheck } from '../http/config-check';
import { parsed } from '../http/config-check';
import { keyRing } from './keys';
import { lifetimeChecks } from './lifetimes';

export const tokenChecks: ConfigCheck = (env, context) => [
  ...parsed(() => keyRing(env)),
  ...lifetimeChecks(env, context),
];
