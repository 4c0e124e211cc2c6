/**
 * @module
 * A credential that names its own Durable Object: a QR id, a device code, a refresh token and a
 * passkey challenge each begin with the id of the object that owns them (64 hex digits), so no
 * shared table is needed to find it. This is the one place that turns such an id back into the
 * object: only an id that this namespace issued opens one, so a forged credential wakes nothing.
 */

const OBJECT_ID = /^[0-9a-f]{64}$/;

/** The object `hexId` names in `namespace`, or null for anything this namespace did not issue. */
export function namedObject<T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  hexId: string,
): DurableObjectStub<T> | null {
  if (!OBJECT_ID.test(hexId)) return null;
  let id: DurableObjectId;
  try {
    id = namespace.idFromString(hexId);
  } catch {
    return null;
  }
  return namespace.get(id);
}
