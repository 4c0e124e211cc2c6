/**
 * @module
 * What `tokens/` contributes to the configuration check (`http/config-check.ts`): the signing
 * keys, parsed as they sign (`keyRing`), the lifetimes (`lifetimes.ts`) and `DPOP_NONCE`.
 */
import type { ConfigCheck } from '../http/config-check';
import { parsed, switchProblem } from '../http/config-check';
import { keyRing } from './keys';
import { lifetimeChecks } from './lifetimes';

export const tokenChecks: ConfigCheck = (env, context) => [
  ...parsed(() => keyRing(env)),
  ...lifetimeChecks(env, context),
  ...switchProblem('DPOP_NONCE', env.DPOP_NONCE, 'off'),
];
