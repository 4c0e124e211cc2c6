/**
 * @module
 * The one place where "these sessions ended" is told: every verb of the user's object that ends
 * sessions (a sign-out, a revocation, a reused refresh token or code, a closed account, the
 * session cap, RP-Initiated Logout) answers them as `EndedSession`s (each naming its user, as the
 * object may empty itself right after), and whoever called it hands them here. The site's backend hears `session.revoked` for each (webhooks), and every OpenID
 * client that a session had signed in to and that registered a `backchannel_logout_uri` gets a
 * logout token (Back-Channel Logout 1.0), once per client and browser session, whatever ended
 * with it.
 */
import type { Context } from 'hono';
import { oidcClient } from '../clients';
import type { AppEnv } from '../http/app-env';
import { tokenIssuer } from '../tokens/signing';
import type { EndedSession } from '../user/types';
import { emit } from '../webhooks/events';
import { type LogoutNotice, queueLogouts } from '../webhooks/logout';

/** The back-channel logouts that these ended sessions call for: one per client and sid. */
function logoutNotices(c: Context<AppEnv>, ended: EndedSession[]): LogoutNotice[] {
  const notices = new Map<string, LogoutNotice>();
  for (const { user, clients } of ended) {
    for (const told of clients) {
      const key = JSON.stringify([told.client_id, told.sid]);
      if (notices.has(key)) continue;
      // A client removed from OIDC_CLIENTS since, or one without the URI, is not told.
      const client = oidcClient(c.env, told.client_id);
      if (!client?.backchannel_logout_uri) continue;
      notices.set(key, {
        client_id: client.client_id,
        uri: client.backchannel_logout_uri,
        alg: client.id_token_signed_response_alg,
        iss: tokenIssuer(c),
        sub: user.id,
        sid: told.sid,
      });
    }
  }
  return [...notices.values()];
}

/**
 * Tells the site's backend (`session.revoked`) and the clients (logout tokens) that these
 * sessions ended. Never throws: the sessions have ended whatever happens here.
 */
export function revoked(c: Context<AppEnv>, ended: EndedSession[]): void {
  for (const { sid, user } of ended) emit(c, 'session.revoked', { sid, user });
  try {
    queueLogouts(c, logoutNotices(c, ended));
  } catch (err) {
    // A broken OIDC_CLIENTS is already a logged configuration error.
    console.error('back-channel logouts not queued:', err);
  }
}
