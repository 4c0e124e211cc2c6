/**
 * A property of refresh tokens (fast-check): whatever interleaving of refreshes (alone or
 * racing), reuse of rotated tokens (within or past the 10 s grace), revocation and expiry a
 * session goes through, it has at most one live refresh token, exactly the model's current one
 * while the session is alive, and none once it was revoked or ended. "Live" is what
 * introspection says of every refresh token the session was ever given.
 */
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import { expect, it } from 'vitest';
import { login } from '../helpers';
import { ageRotations, introspect, inUserObject, type Refreshed, refresh, revoke } from './support';

type Step =
  | { kind: 'refresh' }
  | { kind: 'race'; n: number }
  | { kind: 'reuse'; pick: number }
  | { kind: 'age' }
  | { kind: 'revoke'; pick: number }
  | { kind: 'expire' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'refresh' } as const) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('race' as const), n: fc.integer({ min: 2, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('reuse' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'age' } as const) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revoke' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' } as const) },
);

/** The model: every refresh token issued, which one is current, which rotations are past the grace. */
interface Model {
  tokens: string[];
  current: number;
  /** Tokens rotated out more than 10 s ago (by the server's clock, as moved by `age`). */
  aged: Set<number>;
  alive: boolean;
}

it('leaves at most one live refresh token per session, and none after revocation or expiry', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
      const signedIn = await login('dong', '111');
      const sid = decodeJwt(signedIn.token).sid as string;
      const model: Model = { tokens: [signedIn.refresh_token], current: 0, aged: new Set(), alive: true };

      const rotated = async (res: Response) => {
        const { refresh_token } = (await res.json()) as Refreshed;
        model.tokens.push(refresh_token);
        model.current = model.tokens.length - 1;
      };

      for (const s of steps) {
        if (s.kind === 'refresh') {
          const res = await refresh(model.tokens[model.current]!);
          expect(res.status).toBe(model.alive ? 200 : 400);
          if (res.ok) await rotated(res);
          else await res.arrayBuffer();
        } else if (s.kind === 'race') {
          const answers = await Promise.all(Array.from({ length: s.n }, () => refresh(model.tokens[model.current]!)));
          const ok = answers.filter((r) => r.ok);
          expect(ok.length).toBe(model.alive ? 1 : 0);
          for (const r of answers.filter((a) => !a.ok)) await r.arrayBuffer();
          if (ok[0]) await rotated(ok[0]);
        } else if (s.kind === 'reuse') {
          if (model.current === 0) continue;
          const i = s.pick % model.current;
          const res = await refresh(model.tokens[i]!);
          expect(res.status).toBe(400);
          await res.arrayBuffer();
          // Reuse past the grace is theft: the whole session ends.
          if (model.alive && model.aged.has(i)) model.alive = false;
        } else if (s.kind === 'age') {
          await ageRotations('u_dong', 11_000);
          for (let i = 0; i < model.current; i++) model.aged.add(i);
        } else if (s.kind === 'revoke') {
          expect((await revoke(model.tokens[s.pick % model.tokens.length]!)).status).toBe(200);
          model.alive = false;
        } else {
          await inUserObject('u_dong', 'UPDATE sessions SET refresh_expires_at = ? WHERE sid = ?', Date.now() - 1, sid);
          model.alive = false;
        }

        const live = [];
        for (const [i, token] of model.tokens.entries()) {
          if ((await introspect(token)).active) live.push(i);
        }
        expect(live).toEqual(model.alive ? [model.current] : []);
      }
    }),
    { numRuns: 20 },
  );
});
