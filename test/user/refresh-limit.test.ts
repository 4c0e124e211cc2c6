/**
 * The third audit's A2, the rate half: a session refreshes at most 10 times a minute (a page
 * renews once per access token, every fifteen minutes). The 11th answers 429 `rate_limited` in
 * RFC 6749's shape with `Retry-After`, reads no D1 row and spends nothing: the same refresh
 * token works once the minute has passed. Other sessions of the user are not held back.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app';
import { login, ORIGIN } from '../helpers';
import { oauthErrorOf } from '../oauth/support';
import { ageRotations, REFRESH_GRANT, type Refreshed, refresh } from '../sessions/support';

/** Refreshes one session `times` times in a row; its latest refresh token. */
async function refreshInARow(first: string, times: number): Promise<string> {
  let token = first;
  for (let i = 0; i < times; i++) {
    const res = await refresh(token);
    if (res.status !== 200) throw new Error(`refresh ${i} failed: ${res.status} ${await res.text()}`);
    token = ((await res.json()) as Refreshed).refresh_token;
  }
  return token;
}

/** A refresh through the Worker with D1 watched: its answer, and the D1 statements it prepared. */
async function refreshWatchingD1(token: string): Promise<{ res: Response; queries: string[] }> {
  const queries: string[] = [];
  const watched = {
    prepare: (query: string) => {
      queries.push(query);
      return env.DB.prepare(query);
    },
  } as unknown as D1Database;
  const request = new Request(`${ORIGIN}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: REFRESH_GRANT, refresh_token: token }),
  });
  return { res: await app.fetch(request, { ...env, DB: watched }), queries };
}

describe('refreshing faster than anyone needs', () => {
  it('the 11th refresh of a session within a minute is 429 with Retry-After, reads no D1 row and spends nothing', async () => {
    const signedIn = await login('guang', '222');
    const tenth = await refreshInARow(signedIn.refresh_token, 10);

    const { res, queries } = await refreshWatchingD1(tenth);
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get('Retry-After'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    expect(await oauthErrorOf(res)).toEqual({
      status: 429,
      error: 'rate_limited',
      error_description: expect.stringMatching(/try again in \d+ s/),
    });
    expect(queries).toEqual([]);

    // Still limited a moment later; then the minute passes (by the object's clock) and the very
    // same token refreshes: nothing was spent, the session lives on.
    expect((await refresh(tenth)).status).toBe(429);
    await ageRotations('u_guang', 60_000);
    const res2 = await refresh(tenth);
    expect(res2.status).toBe(200);
    expect((await refresh(((await res2.json()) as Refreshed).refresh_token)).status).toBe(200);
  });

  it('limits each session by itself: another session of the user still refreshes', async () => {
    const first = await login('guang', '222');
    const second = await login('guang', '222');
    const tenth = await refreshInARow(first.refresh_token, 10);
    expect((await refresh(tenth)).status).toBe(429);
    expect((await refresh(second.refresh_token)).status).toBe(200);
  });

  it('a reused token is still theft, not a rate: it signs the session out even while the session is limited', async () => {
    const signedIn = await login('guang', '222');
    const tenth = await refreshInARow(signedIn.refresh_token, 10);
    await ageRotations('u_guang', 11_000);
    const reused = await oauthErrorOf(await refresh(signedIn.refresh_token));
    expect(reused).toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(reused.error_description).toMatch(/already been used/);
    expect(await oauthErrorOf(await refresh(tenth))).toMatchObject({ status: 400, error: 'invalid_grant' });
  });
});
