/**
 * The operator's audit log: the `AUDIT` queue's consumer writes each delivery's events to D1 in
 * one batch, once each however often the queue delivers them (by the event's id), prunes what is
 * older than `AUDIT_RETENTION_DAYS` at most once an hour by the index on `at`, and retries a batch
 * that D1 refused. Reading it goes by an index for every filter: never a scan of the table.
 */
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { readEvents, retentionDays } from '../../src/activity/audit-log';
import { AUDIT_QUEUE, resetAuditPrune } from '../../src/activity/audit-queue';
import type { Env } from '../../src/env';
import { type ActivityDraft, type ActivityEvent, newEvent } from '../../src/user';
import { consume } from '../webhooks/support';

let error: MockInstance<typeof console.error>;
beforeEach(() => {
  error = vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  resetAuditPrune();
});
afterEach(() => vi.restoreAllMocks());

const DAY = 86_400_000;
let n = 0;
/** An event of a user of its own (`auditN`), `ageMs` old. */
function event(draft: Partial<ActivityDraft> = {}, ageMs = 0, user = `audit${++n}`): ActivityEvent {
  return newEvent(
    { id: `u_${user}`, username: user },
    { kind: 'sign_in', ip: '203.0.113.9', device: 'test', place: 'Berlin, DE', detail: { via: 'password' }, ...draft },
    Date.now() - ageMs,
  );
}

const stored = (id: string) => env.DB.prepare('SELECT * FROM audit_events WHERE id = ?').bind(id).all();
const feed = (events: ActivityEvent[][], options: Parameters<typeof consume>[1] = {}) =>
  consume(
    events.map((audit) => ({ audit })),
    { queue: AUDIT_QUEUE, bindings: env as Env, ...options },
  );

describe('the audit queue’s consumer', () => {
  it('stores every event of a delivery as the contract spells it, in one D1 batch', async () => {
    const events = [
      event(),
      event({ kind: 'sign_out', sid: 's1', detail: { by: 'admin' }, actor: { id: 'u_boss', username: 'boss' } }),
    ];
    const batches: number[] = [];
    const db = new Proxy(env.DB, {
      get: (target, prop) =>
        prop === 'batch'
          ? (statements: D1PreparedStatement[]) => {
              batches.push(statements.length);
              return target.batch(statements);
            }
          : (Reflect.get(target, prop, target).bind?.(target) ?? Reflect.get(target, prop, target)),
    });
    const result = await feed([[events[0]!], [events[1]!]], { bindings: { ...env, DB: db } as Env });
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect(batches).toEqual([2]);
    const { events: read } = await readEvents(env as Env, { username: events[1]!.user.username });
    expect(read).toEqual([events[1]]);
    expect(read[0]).toEqual({
      id: events[1]!.id,
      at: events[1]!.at,
      kind: 'sign_out',
      user: events[1]!.user,
      actor: { id: 'u_boss', username: 'boss' },
      sid: 's1',
      device: 'test',
      ip: '203.0.113.9',
      place: 'Berlin, DE',
      detail: { by: 'admin' },
    });
  });

  it('stores an event once, however often the queue delivers it', async () => {
    const once = event();
    await feed([[once]]);
    const again = await feed([[once], [once]], { attempts: 2 });
    expect(again.explicitAcks.sort()).toEqual(['m0', 'm1']);
    expect((await stored(once.id)).results).toHaveLength(1);
  });

  it('retries a batch that D1 refused, with back-off, and logs the events in full at the last attempt', async () => {
    const lost = event();
    const down = {
      ...env,
      DB: { prepare: () => ({ bind: () => ({}) }), batch: () => Promise.reject(new Error('D1_ERROR: down')) },
    };
    const first = await feed([[lost]], { bindings: down as unknown as Env });
    expect(first.explicitAcks).toEqual([]);
    expect(first.retries).toEqual([{ msgId: 'm0', delaySeconds: 60 }]);
    const later = await feed([[lost]], { bindings: down as unknown as Env, attempts: 5 });
    expect(later.retries).toEqual([{ msgId: 'm0', delaySeconds: 960 }]);
    expect(error).not.toHaveBeenCalled();
    const last = await feed([[lost]], { bindings: down as unknown as Env, attempts: 21 });
    expect(last.retries).toEqual([{ msgId: 'm0', delaySeconds: 3600 }]);
    expect(error.mock.calls.flat().join(' ')).toContain(lost.id);
    expect((await stored(lost.id)).results).toEqual([]);
  });

  it('acknowledges a message that is not an audit message, and says so in the log', async () => {
    const kept = event();
    const result = await consume([{ something: 'else' }, { audit: [kept] }, { audit: [{ id: 'x' }] }], {
      queue: AUDIT_QUEUE,
      bindings: env as Env,
    });
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1', 'm2']);
    expect((await stored(kept.id)).results).toHaveLength(1);
    expect(error.mock.calls.flat().join(' ')).toContain('is not an audit message');
  });

  it('prunes what is older than AUDIT_RETENTION_DAYS, at most once an hour, by the index on `at`', async () => {
    const old = event({}, 31 * DAY);
    const recent = event({}, 29 * DAY);
    const bindings = { ...env, AUDIT_RETENTION_DAYS: '30' } as Env;
    await feed([[old, recent]], { bindings });
    expect((await stored(old.id)).results).toEqual([]);
    expect((await stored(recent.id)).results).toHaveLength(1);
    // Within the hour, the next delivery does not prune again.
    const older = event({}, 40 * DAY);
    await feed([[older]], { bindings });
    expect((await stored(older.id)).results).toHaveLength(1);

    const plan = await env.DB.prepare('EXPLAIN QUERY PLAN DELETE FROM audit_events WHERE at < ?').bind('x').all();
    expect(JSON.stringify(plan.results)).toContain('audit_events_by_time');
  });
});

describe('reading the log', () => {
  it('pages newest first by a cursor; past the end is an empty page', async () => {
    const user = `pager${++n}`;
    const events = Array.from({ length: 5 }, (_, i) => event({ ip: `192.0.2.${i}` }, (5 - i) * 1000, user));
    await feed([events]);
    const first = await readEvents(env as Env, { username: user.toUpperCase(), limit: 2 });
    expect(first.events.map((e) => e.ip)).toEqual(['192.0.2.4', '192.0.2.3']);
    const second = await readEvents(env as Env, { username: user, limit: 2, cursor: first.next! });
    expect(second.events.map((e) => e.ip)).toEqual(['192.0.2.2', '192.0.2.1']);
    const third = await readEvents(env as Env, { username: user, limit: 2, cursor: second.next! });
    expect(third.events.map((e) => e.ip)).toEqual(['192.0.2.0']);
    expect(third.next).toBeNull();
    const past = await readEvents(env as Env, {
      username: user,
      limit: 2,
      cursor: { at: '2000-01-01T00:00:00.000Z', id: 'evt_a' },
    });
    expect(past).toEqual({ events: [], next: null });
  });

  it('filters by kind and time, each on an index', async () => {
    const user = `kinds${++n}`;
    await feed([[event({}, 3 * DAY, user), event({ kind: 'sign_out', detail: { by: 'self' } }, DAY, user)]]);
    const since = new Date(Date.now() - 2 * DAY).toISOString();
    expect((await readEvents(env as Env, { username: user, since })).events.map((e) => e.kind)).toEqual(['sign_out']);
    expect((await readEvents(env as Env, { username: user, kind: 'sign_in' })).events).toHaveLength(1);
    for (const where of ['username = ?', 'kind = ?', 'at >= ?', 'at <= ? AND (at < ? OR id < ?)']) {
      const binds = where.split('?').length - 1;
      const plan = await env.DB.prepare(
        `EXPLAIN QUERY PLAN SELECT * FROM audit_events WHERE ${where} ORDER BY at DESC, id DESC LIMIT 51`,
      )
        .bind(...Array(binds).fill('x'))
        .all<{ detail: string }>();
      const steps = plan.results.map((r) => r.detail).join(' | ');
      expect(steps, where).toMatch(/USING (COVERING )?INDEX|USING PRIMARY KEY|SEARCH/);
      expect(steps, where).not.toMatch(/^SCAN audit_events$|SCAN audit_events \|/);
    }
  });

  it('reads AUDIT_RETENTION_DAYS as whole days, and says so when it is not', () => {
    expect(retentionDays({} as Env)).toBe(90);
    expect(retentionDays({ AUDIT_RETENTION_DAYS: '30' } as Env)).toBe(30);
    expect(retentionDays({ AUDIT_RETENTION_DAYS: 'forever' } as Env)).toBe(90);
    expect(retentionDays({ AUDIT_RETENTION_DAYS: '0' } as Env)).toBe(90);
  });
});
