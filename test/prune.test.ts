/**
 * The Worker's Cron Trigger forgets linked-device sessions once their token has expired, so the
 * `sessions` table does not grow with every login. Run with the runtime's scheduled-event helper.
 */
import { createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import worker from '../src/index';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function addSession(sid: string, expiresAt: number, revoked = false) {
  await env.DB.prepare(
    `INSERT INTO sessions (sid, user_id, username, display_name, via, created_at, expires_at, revoked_at)
     VALUES (?, 'u_dong', 'dong', '东东', 'password', ?, ?, ?)`,
  )
    .bind(sid, iso(expiresAt - 7 * 24 * HOUR), iso(expiresAt), revoked ? iso(expiresAt - HOUR) : null)
    .run();
}

async function runCron(at: number) {
  await worker.scheduled(createScheduledController({ scheduledTime: at, cron: '17 * * * *' }), env);
}

async function sids(prefix: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT sid FROM sessions WHERE sid LIKE ? ORDER BY sid')
    .bind(`${prefix}%`)
    .all<{ sid: string }>();
  return results.map((r) => r.sid);
}

describe('the cron trigger', () => {
  it('deletes the sessions past their token’s exp and keeps the live ones, revoked or not', async () => {
    const now = Date.now();
    await addSession('a-expired-an-hour-ago', now - HOUR);
    await addSession('b-expired-just-now', now);
    await addSession('c-expired-and-revoked', now - HOUR, true);
    await addSession('d-live', now + HOUR);
    // A revoked row must outlive its token: it is what refuses the token until then.
    await addSession('e-live-but-revoked', now + HOUR, true);
    await runCron(now);
    expect(await sids('')).toEqual(expect.arrayContaining(['d-live', 'e-live-but-revoked']));
    expect(await sids('a-')).toEqual([]);
    expect(await sids('b-')).toEqual([]);
    expect(await sids('c-')).toEqual([]);
    // An hour later the rest has expired too.
    await runCron(now + HOUR);
    expect(await sids('d-')).toEqual([]);
    expect(await sids('e-')).toEqual([]);
  });

  it('deletes more expired sessions than one batch holds in one run', async () => {
    const now = Date.now();
    const rows = Array.from({ length: 1200 }, (_, i) => `many-${String(i).padStart(4, '0')}`);
    await env.DB.batch(
      rows.map((sid) =>
        env.DB.prepare(
          `INSERT INTO sessions (sid, user_id, username, display_name, via, expires_at)
           VALUES (?, 'u_dong', 'dong', '东东', 'qrcode', ?)`,
        ).bind(sid, iso(now - HOUR)),
      ),
    );
    expect(await sids('many-')).toHaveLength(1200);
    await runCron(now);
    expect(await sids('many-')).toEqual([]);
  });
});
