/**
 * Property tests of the login's state machine: first the pure steps of `state.ts`, then the
 * real Durable Object through the Worker, with random sequences of phone steps, polls, alarms,
 * evictions and clock jumps. Whatever happens, only the edges of the diagram are ever taken.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cancel,
  confirm,
  expireIfDue,
  isOpen,
  type LoginRecord,
  type LoginStatus,
  requiredProofs,
  STATUSES,
  scan,
  verifyProofs,
} from '../../src/login/state';
import type { ConfirmWith } from '../../src/passkeys';
import type { UserRef } from '../../src/user/types';
import { act, ageSession, createQr, login, sessionObject, status, storedState } from '../helpers';

/** The edges of the diagram, and nothing else. */
const EDGES = new Set([
  'noscan>scan-wait-confirm',
  'scan-wait-confirm>scan-confirm',
  'scan-wait-confirm>scan-cancel',
  'noscan>expired',
  'scan-wait-confirm>expired',
]);
/** What the Worker hands the object after `verifyStepUp` held. */
const KEY = { passkey: 'a-passkey-id' };
const isEnd = (s: LoginStatus) => s === 'scan-confirm' || s === 'scan-cancel' || s === 'expired';

const USERS: UserRef[] = [
  { id: 'u1', username: 'dong', display_name: '东东' },
  { id: 'u2', username: 'guang', display_name: '光光' },
  { id: 'u3', username: 'mallory', display_name: 'M' },
];

type Op =
  | { kind: 'scan'; user: number; confirmWith: ConfirmWith; far: boolean }
  | { kind: 'cancel'; user: number }
  | { kind: 'confirm'; user: number; match: string | undefined; passkey: boolean | undefined }
  | { kind: 'expire' }
  | { kind: 'clock'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('scan' as const),
    user: fc.integer({ min: 0, max: 2 }),
    confirmWith: fc.constantFrom<ConfirmWith>('tap', 'passkey', 'passkey-when-risky'),
    far: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('cancel' as const), user: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    kind: fc.constant('confirm' as const),
    user: fc.integer({ min: 0, max: 2 }),
    match: fc.option(fc.constantFrom('47', '12', '00'), { nil: undefined }),
    // A passkey the Worker verified (true), one it refused (false: the object never sees it), or none.
    passkey: fc.option(fc.boolean(), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('expire' as const) }),
  fc.record({ kind: fc.constant('clock' as const), ms: fc.integer({ min: 0, max: 60_000 }) }),
);

/** The phone near the requester (same network), or far from it (another country). */
const NEAR = { ip: '203.0.113.9', country: null };
const FAR = { ip: '198.51.100.7', country: null };

function record(matchCode: string | null): LoginRecord {
  return {
    status: 'noscan',
    version: 0,
    created_at: 0,
    expires_at: 120_000,
    ended_at: null,
    poll_hash: 'h',
    requester: { user_agent: 'ua', ip: '203.0.113.1', country: null, city: null, created_at: '1970-01-01T00:00:00Z' },
    scanner: null,
    match_code: matchCode,
    match_choices: matchCode ? ['12', matchCode, '90'] : null,
    requires: matchCode ? ['match_code'] : [],
    user_code: null,
  };
}

describe('the pure state machine', () => {
  it('takes only the edges of the diagram, one version per change, and ends for good', () => {
    fc.assert(
      fc.property(fc.option(fc.constant('47'), { nil: null }), fc.array(opArb, { maxLength: 30 }), (code, ops) => {
        let rec = record(code);
        let now = 0;
        for (const op of ops) {
          let next: LoginRecord | null = null;
          if (op.kind === 'clock') {
            now += op.ms;
            continue;
          }
          if (op.kind === 'expire') next = expireIfDue(rec, now);
          else {
            // The object checks expiry before every step, whatever the alarm did.
            const due = expireIfDue(rec, now);
            if (due) {
              expect(EDGES.has(`${rec.status}>${due.status}`)).toBe(true);
              expect(due.version).toBe(rec.version + 1);
              rec = due;
            }
            const user = USERS[op.user]!;
            // A passkey the Worker refused never reaches the object: that confirm is not made.
            if (op.kind === 'confirm' && op.passkey === false) continue;
            const given = op.kind === 'confirm' ? { match_code: op.match, ...(op.passkey && { passkey: KEY }) } : {};
            const step =
              op.kind === 'confirm'
                ? confirm(rec, user, verifyProofs(rec, given), now)
                : op.kind === 'scan'
                  ? scan(rec, user, now, { confirm_with: op.confirmWith, phone: op.far ? FAR : NEAR })
                  : cancel(rec, user, now);
            next = step.next;
            if (step.outcome.ok) expect(STATUSES).toContain(step.outcome.value.status);
            // A refused step never changes anything, except a wrong match code, which cancels.
            if (!step.outcome.ok && step.outcome.error !== 'match_failed') expect(next).toBeNull();
            // A confirm without a required passkey is refused whatever else it carries, and changes nothing.
            if (op.kind === 'confirm' && requiredProofs(rec).includes('passkey') && !op.passkey) {
              expect(next).toBeNull();
            }
            // Only a confirm that brought every required proof, each of them right, signs anyone in.
            if (next?.status === 'scan-confirm') {
              expect(requiredProofs(rec).every((kind) => verifyProofs(rec, given)[kind] === true)).toBe(true);
            }
            // The scan that binds fixes the step-up by CONFIRM_WITH; a passkey is never asked under tap.
            if (next?.status === 'scan-wait-confirm' && op.kind === 'scan') {
              const needed = op.confirmWith === 'passkey' || (op.confirmWith === 'passkey-when-risky' && op.far);
              expect(requiredProofs(next).includes('passkey')).toBe(needed);
            }
            // Past expires_at nothing but expiry ever happens.
            if (now >= rec.expires_at) expect(next).toBeNull();
            // Only the bound scanner can confirm or cancel.
            if (next && op.kind !== 'scan') expect(rec.scanner?.id).toBe(user.id);
          }
          if (next) {
            expect(STATUSES).toContain(next.status);
            expect(isEnd(rec.status)).toBe(false);
            expect(EDGES.has(`${rec.status}>${next.status}`)).toBe(true);
            expect(next.version).toBe(rec.version + 1);
            expect(next.ended_at === null).toBe(isOpen(next.status));
            if (next.status === 'scan-wait-confirm') expect(next.scanner).not.toBeNull();
            // Once bound, the scanner never changes, nor what confirming needs.
            if (rec.scanner) expect(next.scanner).toEqual(rec.scanner);
            if (rec.scanner) expect(requiredProofs(next)).toEqual(requiredProofs(rec));
            rec = next;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});

type LiveOp =
  | { kind: 'scan' | 'confirm' | 'cancel'; user: 0 | 1 }
  | { kind: 'poll' | 'long-poll' | 'alarm' | 'evict' }
  | { kind: 'age'; ms: number };

/** The status a phone step moves the session to when it answers 200. */
const AFTER_STEP = { scan: 'scan-wait-confirm', confirm: 'scan-confirm', cancel: 'scan-cancel' } as const;

/**
 * The stored record's status and version as the object reads it (an open record past
 * `expires_at` reads as expired: expiry is never written), or null when storage is empty.
 */
async function stored(qr: string): Promise<{ status: LoginStatus; version: number } | null> {
  return runInDurableObject(sessionObject(qr), (_o, state) => {
    const kept = state.storage.kv.get<LoginRecord>('session');
    const rec = kept && (expireIfDue(kept, Date.now()) ?? kept);
    return rec ? { status: rec.status, version: rec.version } : null;
  });
}

const liveOpArb: fc.Arbitrary<LiveOp> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('scan' as const, 'confirm' as const, 'cancel' as const),
    user: fc.constantFrom(0 as const, 1 as const),
  }),
  fc.record({ kind: fc.constantFrom('poll' as const, 'long-poll' as const, 'alarm' as const, 'evict' as const) }),
  fc.record({ kind: fc.constant('age' as const), ms: fc.constantFrom(1_000, 60_000, 125_000) }),
);

describe('the real login object', () => {
  it('keeps to the diagram under random steps, polls, alarms, evictions and clock jumps', async () => {
    const tokens = [(await login('dong', '111')).token, (await login('guang', '222')).token];
    await fc.assert(
      fc.asyncProperty(fc.array(liveOpArb, { minLength: 1, maxLength: 10 }), async (ops) => {
        const qr = await createQr();
        let seen: LoginStatus = 'noscan';
        let version = 0;
        let delivered = 0;
        let gone = false;
        // Each op is awaited and makes at most one change, and the stored record is read after
        // every op: so every change is seen, and each must be one edge with one more version.
        const observe = (s: LoginStatus, v: number) => {
          expect(STATUSES).toContain(s);
          if (v === version) expect(s).toBe(seen);
          else {
            expect(v).toBe(version + 1);
            expect(EDGES.has(`${seen}>${s}`)).toBe(true);
          }
          seen = s;
          version = v;
        };
        for (const op of ops) {
          if (op.kind === 'poll' || op.kind === 'long-poll') {
            // A long-poll past the version already seen, with no time to wait: it takes the
            // waiting path of the object and answers the current state.
            const res = await status(qr, op.kind === 'poll' ? '' : `?after=${version}&wait=0`);
            if (res.status === 410) {
              gone = true;
              continue;
            }
            expect(res.status).toBe(200);
            const body = (await res.json()) as { status: LoginStatus; version: number; token?: string };
            observe(body.status, body.version);
            if (body.token) {
              expect(body.status).toBe('scan-confirm');
              delivered++;
              gone = true;
              // The answer that carries the token empties the object at once.
              expect(await storedState(qr.qrcode_id)).toEqual({ keys: [], alarm: null });
            }
          } else if (op.kind === 'alarm') {
            await runDurableObjectAlarm(sessionObject(qr));
          } else if (op.kind === 'evict') {
            // Evicting an object that is not running is refused: wake it first. No poll is in
            // flight here (each op is awaited), so the eviction has nothing to wait for.
            await storedState(qr);
            await evictDurableObject(sessionObject(qr));
          } else if (op.kind === 'age') {
            if (!gone && (await storedState(qr)).keys.length > 0) await ageSession(qr, op.ms);
          } else if ('user' in op) {
            const res = await act(qr, op.kind, tokens[op.user]!);
            expect([200, 403, 409, 410]).toContain(res.status);
            if (res.status === 200) {
              const body = (await res.json()) as { status: LoginStatus; version: number };
              expect(body.status).toBe(AFTER_STEP[op.kind]);
              observe(body.status, body.version);
            }
          }
          // Whatever the answers said, the stored record agrees: a state of the diagram, one
          // edge from the last one seen at most, its version never going back.
          const now = await stored(qr.qrcode_id);
          if (now) {
            expect(gone && delivered > 0).toBe(false);
            observe(now.status, now.version);
          }
        }
        expect(delivered).toBeLessThanOrEqual(1);
        // End it (if still open), then let cleanup run: storage is empty.
        if ((await storedState(qr)).keys.length > 0) {
          await ageSession(qr, 125_000);
          await runDurableObjectAlarm(sessionObject(qr));
        }
        if ((await storedState(qr)).keys.length > 0) {
          await ageSession(qr, 31_000);
          await runDurableObjectAlarm(sessionObject(qr));
        }
        expect(await storedState(qr)).toEqual({ keys: [], alarm: null });
        // Whatever was left, no later poll hands out a second token.
        const last = await status(qr);
        expect(last.status).toBe(410);
      }),
      { numRuns: 25 },
    );
  });
});
