/**
 * @module
 * What `oauth/` contributes to the configuration check (`http/config-check.ts`): the device
 * flow's `OAUTH_CLIENTS` (ids or `id=Name`, comma-separated, as `deviceClients` reads them) and the
 * introspecting backends' `INTROSPECTION_CLIENTS` (`id:secret` pairs; a secret is never quoted),
 * and the OpenID clients (`OIDC_CLIENTS` with `OIDC_CLIENT_SECRETS`, read as `clientRegistry` reads
 * them: its error names the client and what is wrong).
 */
import { commaList } from '../env';
import { type ConfigCheck, type ConfigProblem, problem, quoted } from '../http/config-check';
import { ConfigError } from '../http/errors';
import { clientRegistry } from './clients';
import { deviceClients } from './form';
import { MAX_PARAM_LENGTH } from './schemas';

export const oauthChecks: ConfigCheck = (env) => {
  const found: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const { id, name } of deviceClients(env)) {
    // A client sends its id as a form parameter: one with a space in it is two ids and a missing comma.
    if (id === '') {
      found.push(problem('OAUTH_CLIENTS', 'has an entry with a name and no id: write each client as id or id=Name.'));
    } else if (seen.has(id)) {
      found.push(problem('OAUTH_CLIENTS', `lists ${quoted(id)} twice: list each client once.`));
    } else if (/\s/.test(id)) {
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
    seen.add(id);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
    if (name !== null && (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name))) {
      found.push(
        problem('OAUTH_CLIENTS', `names ${quoted(id)} with more than 100 characters, or a control character.`),
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
