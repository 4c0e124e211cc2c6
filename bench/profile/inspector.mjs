/**
 * The JavaScript heap of a Worker's isolate, read through workerd's inspector (the Chrome
 * DevTools protocol, over Node's own WebSocket): used size after a garbage collection, and a
 * heap snapshot summed by kind of object, so that two snapshots tell what N more waiting PCs
 * keep in JavaScript. The rest of workerd's resident memory is native (the runtime's own).
 * Also V8's sampling CPU profile of the isolate (`js-profile.mjs` reads it).
 */

/** Connects to the isolate of the Worker `name` on workerd's inspector at `port`. */
export async function inspect(port, name) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/core:user:${name}`);
  let nextId = 0;
  const pending = new Map();
  let chunks = [];
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(String(event.data));
    if (msg.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(msg.params.chunk);
    else if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg.result);
      pending.delete(msg.id);
    }
  });
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', () => reject(new Error(`no inspector for ${name} on port ${port}`)));
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  // workerd answers nothing until the Runtime domain is enabled.
  await send('Runtime.enable');
  await send('HeapProfiler.enable');
  const collect = () => ws.send(JSON.stringify({ id: ++nextId, method: 'HeapProfiler.collectGarbage' })); // no answer

  return {
    /** V8's own account, in bytes: `usedSize`, `totalSize` (committed), `backingStorageSize` (ArrayBuffers). */
    heapUsage: () => send('Runtime.getHeapUsage'),
    /** Map of "type:constructor" → { count, bytes } (self sizes) over the whole heap. */
    async heapByKind() {
      collect();
      chunks = [];
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const snap = JSON.parse(chunks.join(''));
      chunks = [];
      const fields = snap.snapshot.meta.node_fields;
      const types = snap.snapshot.meta.node_types[0];
      const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
      const byKind = new Map();
      for (let i = 0; i < snap.nodes.length; i += fields.length) {
        const type = types[snap.nodes[i + typeAt]];
        const named = type === 'object' || type === 'closure' || type === 'native';
        const key = named ? `${type}:${snap.strings[snap.nodes[i + nameAt]]}` : type;
        const entry = byKind.get(key) ?? { count: 0, bytes: 0 };
        entry.count++;
        entry.bytes += snap.nodes[i + sizeAt];
        byKind.set(key, entry);
      }
      return byKind;
    },
    /** Starts V8's sampling profiler of the isolate, a sample every `intervalUs` µs. */
    async startCpuProfile(intervalUs = 100) {
      await send('Profiler.enable');
      await send('Profiler.setSamplingInterval', { interval: intervalUs });
      await send('Profiler.start');
    },
    /** Stops it: the profile (`nodes`, `samples`, `timeDeltas`: the Chrome DevTools protocol's `Profiler.Profile`). */
    stopCpuProfile: async () => (await send('Profiler.stop')).profile,
    close: () => ws.close(),
  };
}

/** Per-unit difference of two `heapByKind` maps: the kinds that grew by more than `minBytes` per unit, largest first. */
export function heapGrowth(before, after, units, minBytes = 16) {
  const rows = [];
  for (const [kind, now] of after) {
    const then = before.get(kind) ?? { count: 0, bytes: 0 };
    const bytes = (now.bytes - then.bytes) / units;
    if (bytes >= minBytes) rows.push({ kind, count: (now.count - then.count) / units, bytes });
  }
  return rows.sort((a, b) => b.bytes - a.bytes);
}
