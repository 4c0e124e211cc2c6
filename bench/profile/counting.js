/**
 * @module
 * A counting copy of the app for `bench/profile.mjs`: the same Worker and Durable Objects, with
 * their bindings and storage wrapped so that every call is counted, and timed when it waits
 * (Durable Object calls, storage calls, D1 queries). `GET /__profile` answers the counts since
 * it was last asked and starts again. The benchmark never measures speed on this copy; it
 * measures what the app does. Never deployed.
 */
import worker, { LoginSession, UserCode, UserSessions } from '../../src/index.ts';

export * from '../../src/index.ts';

/** key → { n, ms }: how many calls, and how long the ones that wait took (ms, as workerd's clock moves on I/O). */
const counts = new Map();

function tally(key, ms) {
  const c = counts.get(key) ?? { n: 0, ms: 0 };
  c.n++;
  if (ms !== undefined) c.ms += ms;
  counts.set(key, c);
}

/** Counts `result` under `key`, with its waiting time when it is a promise (or an RPC's thenable). */
function counted(key, result) {
  if (!result || typeof result.then !== 'function') {
    tally(key);
    return result;
  }
  const t = Date.now();
  return Promise.resolve(result).finally(() => tally(key, Date.now() - t));
}

/** A view of `target` whose methods are counted as `label.method`; `nested` properties are wrapped the same way. */
function countMethods(target, label, nested = []) {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (typeof prop !== 'string') return value;
      if (nested.includes(prop)) return countMethods(value, `${label}.${prop}`);
      if (typeof value !== 'function') return value;
      return (...args) => counted(`${label}.${prop}`, Reflect.apply(value, t, args));
    },
  });
}

/** D1, counted per statement kind and table (`D1 SELECT sessions`); batches see the real statements. */
function countD1(db) {
  const real = new WeakMap();
  const statement = (stmt, key) => {
    const wrapped = {
      bind: (...args) => statement(stmt.bind(...args), key),
      first: (...args) => counted(key, stmt.first(...args)),
      run: () => counted(key, stmt.run()),
      all: () => counted(key, stmt.all()),
      raw: (...args) => counted(key, stmt.raw(...args)),
    };
    real.set(wrapped, stmt);
    return wrapped;
  };
  return {
    prepare(sql) {
      const words = sql.replace(/\s+/g, ' ').trim().split(' ');
      const verb = words[0].toUpperCase();
      const table = words[words.findIndex((w) => /^(FROM|INTO|UPDATE)$/i.test(w)) + 1] ?? '';
      return statement(db.prepare(sql), `D1 ${verb} ${verb === 'UPDATE' ? words[1] : table}`.trim());
    },
    batch: (statements) => counted('D1 batch', db.batch(statements.map((s) => real.get(s) ?? s))),
    exec: (sql) => counted('D1 exec', db.exec(sql)),
    withSession: (...args) => db.withSession(...args),
  };
}

/** The env of the Worker or of an object, with D1 and the object namespaces counted. */
function countEnv(env) {
  return new Proxy(env, {
    get(t, prop) {
      const value = t[prop];
      if (prop === 'DB') return countD1(value);
      if (!value || typeof value.idFromName !== 'function') return value;
      // A namespace: the stubs it gives count their calls (`RPC LOGIN_SESSION.status`).
      return new Proxy(value, {
        get(ns, name) {
          const v = Reflect.get(ns, name);
          if (name !== 'get' && name !== 'getByName') return typeof v === 'function' ? v.bind(ns) : v;
          return (...args) => countMethods(Reflect.apply(v, ns, args), `RPC ${String(prop)}`);
        },
      });
    },
  });
}

/** Adds `n` to the count of `key` (rows, not calls). */
function add(key, n) {
  if (!n) return;
  const c = counts.get(key) ?? { n: 0, ms: 0 };
  c.n += n;
  counts.set(key, c);
}

/**
 * `sql` whose statements' rows written are added up (`UserSessions rows written`), as the
 * cursor's `rowsWritten` says once the statement has run (a write runs at `exec`; a cursor that
 * is read is counted again when it is read to its end, for what it wrote on the way).
 */
function countRows(sql, name) {
  return new Proxy(sql, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (prop !== 'exec') return typeof value === 'function' ? value.bind(t) : value;
      return (...args) => {
        const cursor = Reflect.apply(value, t, args);
        add(`${name} rows written`, cursor.rowsWritten);
        const seen = cursor.rowsWritten;
        const toArray = cursor.toArray.bind(cursor);
        cursor.toArray = () => {
          const rows = toArray();
          add(`${name} rows written`, cursor.rowsWritten - seen);
          return rows;
        };
        return cursor;
      };
    },
  });
}

/** `ctx` of an object, with its storage counted (`LoginSession storage.kv.put`; rows written by SQL). */
function countCtx(ctx, name) {
  return new Proxy(ctx, {
    get(t, prop) {
      const value = Reflect.get(t, prop);
      if (prop === 'storage') {
        const storage = countMethods(value, `${name} storage`, ['kv']);
        return new Proxy(storage, {
          get(st, key) {
            if (key === 'sql') return countRows(value.sql, name);
            return Reflect.get(st, key);
          },
        });
      }
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}

/** A subclass of a Durable Object class whose ctx and env count what it does. */
function counting(Base, name) {
  return class extends Base {
    constructor(ctx, env) {
      tally(`${name} loaded`);
      // The base class wants the real state; the object's own code then sees the counting views.
      super(ctx, env);
      Object.defineProperty(this, 'ctx', { value: countCtx(ctx, name) });
      Object.defineProperty(this, 'env', { value: countEnv(env) });
    }
  };
}

const CountedLoginSession = counting(LoginSession, 'LoginSession');
const CountedUserCode = counting(UserCode, 'UserCode');
const CountedUserSessions = counting(UserSessions, 'UserSessions');

export { CountedLoginSession as LoginSession, CountedUserCode as UserCode, CountedUserSessions as UserSessions };

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === '/__profile') {
      const out = Object.fromEntries(counts);
      counts.clear();
      return Response.json(out);
    }
    tally('Worker request');
    return worker.fetch(request, countEnv(env), ctx);
  },
};
