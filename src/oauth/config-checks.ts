/**
 * @module
 * What `oauth/` contributes to the configuration check (`http/config-check.ts`): the device
 * flow's `OAUTH_CLIENTS` (ids, comma-separated, as `allowedClients` reads them) and the
 * introspecting backends' `INTROSPECTION_CLIENTS` (`id:secret` pairs; a secret is never quoted),
 * and the OpenID clients (`OIDC_CLIENTS` with `OIDC_CLIENT_SECRETS`, read as `clientRegistry` reads
 * them: its error names the client and what is wrong).
 */
import { commaList } from '../env';
import { type ConfigCheck, type ConfigProblem, problem, quoted } from '../http/config-check';
import { ConfigError } from '../http/errors';
import { clientRegistry } from './clients';
import { allowedClients } from './form';
import { MAX_PARAM_LENGTH } from './schemas';

export const oauthChecks: ConfigCheck = (env) => {
  const found: ConfigProblem[] = [];
  for (const id of allowedClients(env)) {
    // A client sends its id as a form parameter: one with a space in it is two ids and a missing comma.
    if (/\s/.test(id)) {
      found.push(
        problem(
          'OAUTH_CLIENTS',
          `has ${quoted(id)}: separate client ids with commas, such as "${id.split(/\s+/).join(',')}".`,
        ),
      );
    } else if (id.length > MAX_PARAM_LENGTH) {
      found.push(
        problem('OAUTH_CLIENTS', `has an id longer than ${MAX_PARAM_LENGTH} characters, which no client can send.`),
      );
    }
  }
  commaList(env.INTROSPECTION_CLIENTS).forEach((entry, i) => {
    const at = entry.indexOf(':');
    if (at <= 0 || at === entry.length - 1) {
      // The entry may be a secret alone: it is named by its place, never quoted.
      found.push(
        problem(
          'INTROSPECTION_CLIENTS',
          `entry ${i + 1} is not id:secret: write each backend as its id, a colon and its secret, comma-separated, such as "shop-backend:<secret>".`,
        ),
      );
    }
  });
  try {
    clientRegistry(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const name = /OIDC_CLIENT_SECRETS/.test(err.message.split(':')[0] ?? '') ? 'OIDC_CLIENT_SECRETS' : 'OIDC_CLIENTS';
    found.push({ name, message: err.message });
  }
  return found;
};
