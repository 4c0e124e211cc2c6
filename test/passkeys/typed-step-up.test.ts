/**
 * The typed code's step-up is never lost (issue 25, A1). With `CONFIRM_WITH=passkey-when-risky`
 * a user who reached a login by typing its code must confirm with a passkey, and the confirm view
 * says the code was typed. A login remembers only so many typists: whoever types the code after
 * that list is full is still treated as having typed it, so that an attacker who first resolves
 * a code from eight accounts of their own cannot confirm from a ninth without the step-up.
 */
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { RequestOptions } from '../../src/passkeys';
import { createQr, type QrBody, userCodeOf } from '../helpers';
import { call } from './support';

/** The PCs ask from this network (each from an address of its own); the phones scan from it too, so no location warning shows. */
let pcs = 0;
const pcIp = () => `203.0.113.${(pcs++ % 200) + 10}`;
const NEAR = '203.0.113.7';

const SECRET = 'a shared secret of the site, at least 32 bytes long';
/** The site's own users (`IDENTITY=jwt`), as many as a test wants, with the step-up for typed codes on. */
const vars = {
  IDENTITY: 'jwt',
  IDENTITY_ISSUER: 'https://site.example',
  IDENTITY_AUDIENCE: 'qr-login',
  IDENTITY_JWT_SECRET: SECRET,
  CONFIRM_WITH: 'passkey-when-risky',
};

/** A token of the site's user `sub`. */
const siteToken = (sub: string) =>
  new SignJWT({ sub, name: sub })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(vars.IDENTITY_ISSUER)
    .setAudience(vars.IDENTITY_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));

/** `count` distinct users of the site, each with a token. */
async function users(count: number): Promise<string[]> {
  const run = crypto.randomUUID().slice(0, 8);
  return Promise.all(Array.from({ length: count }, (_, i) => siteToken(`typist-${run}-${i}`)));
}

interface ScanAnswer {
  status: string;
  typed?: boolean;
  step_up?: RequestOptions;
  step_up_reason?: string;
}

const resolve = (token: string, code: string) =>
  call('/api/codes/resolve', { method: 'POST', token, body: { user_code: code }, vars });

const scan = (qr: QrBody, token: string) =>
  call(`/api/qrcodes/${qr.qrcode_id}/scan`, { method: 'POST', token, headers: { 'CF-Connecting-IP': NEAR }, vars });

/** A login whose PC asked for a code to type. */
async function typedLogin() {
  const qr = await createQr({ 'CF-Connecting-IP': pcIp() });
  return { qr, code: await userCodeOf(qr) };
}

describe('a typed code’s step-up', () => {
  it('holds for the ninth account that typed the code after eight others did', async () => {
    const [victimOfNine, ...eight] = await users(9);
    const { qr, code } = await typedLogin();
    for (const token of eight) expect((await resolve(token, code)).status).toBe(200);

    const ninth = await resolve(victimOfNine!, code);
    expect(ninth.status).toBe(200);
    expect(await ninth.json()).toEqual({ qrcode_id: qr.qrcode_id });
    const res = await scan(qr, victimOfNine!);
    expect(res.status).toBe(200);
    const body = (await res.json()) as ScanAnswer;
    // The confirm view says the code was typed, and asks for a passkey.
    expect(body).toMatchObject({ status: 'scan-wait-confirm', typed: true, step_up_reason: 'typed' });
    expect(body.step_up?.challenge).toEqual(expect.any(String));
    // Confirming without the passkey changes nothing.
    const confirm = await call(`/api/qrcodes/${qr.qrcode_id}/confirm`, {
      method: 'POST',
      token: victimOfNine!,
      body: {},
      vars,
    });
    expect(confirm.status).toBe(403);
    expect(await confirm.json()).toMatchObject({ error: 'step_up_required' });
  });

  it('is kept for every typist, whatever the order of resolves and scans (property)', async () => {
    type Step = { kind: 'resolve' | 'scan'; who: number };
    const USERS = 11;
    const everyone = Array.from({ length: USERS }, (_, i) => i);
    // Most of the users type the code, in any order, some twice; scans come in anywhere among
    // the resolves or after them all (so the list of typists is often full before the scan that
    // binds), by any user or, more often, by the one who typed the code just before.
    const steps = fc
      .record({
        again: fc.array(fc.constantFrom(...everyone), { maxLength: 3 }),
        typists: fc.shuffledSubarray(everyone, { minLength: 7 }),
        scans: fc.array(
          fc.record({
            at: fc.oneof(fc.constant('end' as const), fc.nat()),
            who: fc.constantFrom(...everyone),
            latest: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
      })
      .map(({ again, typists, scans }) => {
        const list: Step[] = [...again, ...typists].map((who) => ({ kind: 'resolve', who }));
        for (const { at, who, latest } of scans) {
          const i = at === 'end' ? list.length : at % (list.length + 1);
          list.splice(i, 0, { kind: 'scan', who: (latest && list[i - 1]?.who) || who });
        }
        return list;
      });
    await fc.assert(
      fc.asyncProperty(steps, async (list) => {
        const tokens = await users(USERS);
        const { qr, code } = await typedLogin();
        const typed = new Set<number>();
        let scanner: number | null = null;
        for (const s of list) {
          if (s.kind === 'resolve') {
            const res = await resolve(tokens[s.who]!, code);
            expect(res.status).toBe(200);
            await res.arrayBuffer();
            if (scanner === null) typed.add(s.who);
            continue;
          }
          const res = await scan(qr, tokens[s.who]!);
          if (scanner !== null && scanner !== s.who) {
            expect(res.status).toBe(409);
            await res.arrayBuffer();
            continue;
          }
          expect(res.status).toBe(200);
          scanner ??= s.who;
          const body = (await res.json()) as ScanAnswer;
          if (typed.has(scanner)) {
            expect(body).toMatchObject({ typed: true, step_up_reason: 'typed' });
            expect(body.step_up?.challenge).toEqual(expect.any(String));
          }
        }
      }),
      { numRuns: 20 },
    );
  }, 60_000);
});
