/**
 * Chromium's virtual authenticators (the DevTools protocol's `WebAuthn` domain), for the suites
 * that sign in with passkeys: a phone's own platform authenticator, or a phone reached over the
 * hybrid transport from a PC.
 */
import type { CDPSession, Page } from 'playwright-core';

export interface Credential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  privateKey: string;
  userHandle?: string;
  signCount: number;
}

/**
 * A virtual authenticator in `page`'s tab, as Chromium's DevTools protocol makes it: a phone's
 * own (`internal`) or a phone reached over the hybrid transport (`cable`), with resident keys and
 * user verification, answering by itself (automatic presence).
 */
export async function authenticator(page: Page, transport: 'internal' | 'cable' = 'internal') {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const add = (name: 'internal' | 'cable' | 'hybrid') =>
    cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: name,
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  // caBLE is the hybrid transport's old name: Chromium 150 takes only `hybrid`, older ones `cable`.
  const { authenticatorId } = await add(transport).catch((err: Error) => {
    if (transport === 'cable' && /transport is not valid/.test(err.message)) return add('hybrid');
    throw err;
  });
  return {
    credentials: async () =>
      (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials as Credential[],
    add: (credential: Credential) => cdp.send('WebAuthn.addCredential', { authenticatorId, credential }),
    remove: (credentialId: string) => cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId }),
    /** The user's fingerprint (or face, or PIN) is, or is not, recognised. */
    verified: (isUserVerified: boolean) => cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified }),
  };
}

/** A credential's id as the Worker and the pages write it (base64url; the protocol says base64). */
export const idOf = (credential: Credential) => Buffer.from(credential.credentialId, 'base64').toString('base64url');
