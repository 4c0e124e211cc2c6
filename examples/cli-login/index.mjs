#!/usr/bin/env node
/**
 * Sign a command-line program in with a phone: the OAuth 2.0 device flow (RFC 8628) against
 * qrcode-login, with oauth4webapi and nothing of ours on this side.
 *
 *   npm run device-login -- [server, default http://localhost:8787] [client_id, default cli]
 *
 * The server must list the client in OAUTH_CLIENTS (`npm run dev -- --var OAUTH_CLIENTS:cli`).
 */
import * as oauth from 'oauth4webapi';
import QRCode from 'qrcode';

const server = new URL(process.argv[2] ?? 'http://localhost:8787');
const client = { client_id: process.argv[3] ?? 'cli' };
const options = {
  // Plain http only for a server on this machine; anything deployed speaks https.
  [oauth.allowInsecureRequests]: server.protocol === 'http:',
  // What the phone shows as the thing asking to sign in.
  headers: { 'User-Agent': `device-login example (${process.platform})` },
};

try {
  const found = await oauth.discoveryRequest(server, { ...options, algorithm: 'oauth2' });
  const as = await oauth.processDiscoveryResponse(server, found);
  const started = await oauth.deviceAuthorizationRequest(as, client, oauth.None(), {}, options);
  const auth = await oauth.processDeviceAuthorizationResponse(as, client, started);
  console.log(await QRCode.toString(auth.verification_uri_complete, { type: 'terminal', small: true }));
  console.log(`Scan this with your phone, or open ${auth.verification_uri} and type ${auth.user_code}`);

  let interval = auth.interval ?? 5;
  let tokens;
  while (!tokens) {
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
    try {
      const polled = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), auth.device_code, options);
      tokens = await oauth.processDeviceCodeResponse(as, client, polled);
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      if (err.error === 'slow_down') interval += 5;
      else if (err.error !== 'authorization_pending') throw err;
    }
  }
  const me = await fetch(new URL('/api/me', server), { headers: { Authorization: `Bearer ${tokens.access_token}` } });
  const user = await me.json();
  console.log(`Signed in as ${user.display_name} (${user.username}).`);
} catch (err) {
  // access_denied, expired_token, invalid_client, or the server out of reach: say which.
  console.error(`Not signed in: ${err.error_description ?? err.message}`);
  process.exitCode = 1;
}
