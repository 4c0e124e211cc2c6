/**
 * A software authenticator for the tests: it makes real WebAuthn responses with WebCrypto, as a
 * phone's platform authenticator would, and hands them over as `PublicKeyCredential.toJSON()`
 * does. A registration carries an attestation object in CBOR (`fmt: "none"`) whose
 * authenticator data holds the new credential and its COSE key; an assertion is signed with the
 * private key (ES256 as an ASN.1 DER signature, RS256 as it is). Every part can be bent, to
 * make the bad inputs a real attacker (or a broken browser) would send.
 */
import { base64url } from '../../src/http/crypto';

// ---------------------------------------------------------------- a tiny CBOR encoder (RFC 8949)

export type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;

function head(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

export function cbor(value: Cbor): Uint8Array {
  const out: number[] = [];
  const put = (v: Cbor) => {
    if (typeof v === 'number') out.push(...(v >= 0 ? head(0, v) : head(1, -1 - v)));
    else if (typeof v === 'string') {
      const bytes = new TextEncoder().encode(v);
      out.push(...head(3, bytes.byteLength), ...bytes);
    } else if (v instanceof Uint8Array) out.push(...head(2, v.byteLength), ...v);
    else {
      out.push(...head(5, v.size));
      for (const [key, item] of v) {
        put(key);
        put(item);
      }
    }
  };
  put(value);
  return new Uint8Array(out);
}

// ---------------------------------------------------------------- signatures

/** A DER INTEGER of an unsigned big-endian number: leading zeros dropped, one added before a high bit. */
function derInteger(bytes: Uint8Array): number[] {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const int = [...bytes.subarray(i)];
  if ((int[0] ?? 0) & 0x80) int.unshift(0);
  return [0x02, int.length, ...int];
}

/** An ECDSA signature as WebAuthn sends it: ASN.1 DER `SEQUENCE { r, s }` (WebCrypto gives r ‖ s). */
export function derSignature(raw: Uint8Array): Uint8Array {
  const body = [...derInteger(raw.subarray(0, 32)), ...derInteger(raw.subarray(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

const ALGORITHMS = {
  ES256: {
    cose: -7,
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
  RS256: {
    cose: -257,
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
  },
} as const;

export type Algorithm = keyof typeof ALGORITHMS;

const b64 = (text: string) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const sha256 = async (bytes: Uint8Array) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** The authenticator data flags (§6.1). */
export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

/** What a ceremony may bend: where it happened, what it claims, and how the authenticator answers. */
export interface Bend {
  /** The page's origin in clientDataJSON (default the test Worker's). */
  origin?: string;
  /** The RP ID whose hash goes into the authenticator data (default the options' RP ID). */
  rpId?: string;
  /** The challenge answered (default the options'). */
  challenge?: string;
  /** clientDataJSON's `type` (default `webauthn.create` / `webauthn.get`). */
  type?: string;
  crossOrigin?: boolean;
  /** The flags byte (default UP | UV, with BE | BS for a synced passkey). */
  flags?: number;
  /** The signature counter to report (default the authenticator's next). */
  counter?: number;
  /** The user handle to return (default the registered one; null: none). */
  userHandle?: string | null;
  /**
   * ES256: sign until r or s is shorter than 32 bytes (its first byte zero, about one signature
   * in 128), so that DER drops that byte: the signatures a careless decoder refuses.
   */
  shortInteger?: boolean;
}

export const TEST_ORIGIN = 'https://login.example';
export const TEST_RP_ID = 'login.example';

/** One credential of a software authenticator: its id, its key pair, its counter. */
export class Authenticator {
  counter: number;
  userHandle: string | null = null;
  rpId = TEST_RP_ID;

  private constructor(
    readonly algorithm: Algorithm,
    readonly id: string,
    private readonly keys: CryptoKeyPair,
    /** Whether the credential is synced (backup eligible and backed up), as a platform passkey is. */
    readonly synced: boolean,
    /** Whether it keeps a signature counter (synced passkeys report 0 always). */
    readonly counts: boolean,
  ) {
    this.counter = 0;
  }

  static async create(
    options: { algorithm?: Algorithm; synced?: boolean; counts?: boolean } = {},
  ): Promise<Authenticator> {
    const algorithm = options.algorithm ?? 'ES256';
    const keys = (await crypto.subtle.generateKey(ALGORITHMS[algorithm].generate, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const id = base64url(crypto.getRandomValues(new Uint8Array(32)));
    return new Authenticator(algorithm, id, keys, options.synced ?? false, options.counts ?? true);
  }

  private defaultFlags(): number {
    return FLAG.UP | FLAG.UV | (this.synced ? FLAG.BE | FLAG.BS : 0);
  }

  /** The COSE_Key of the public key (RFC 9053). */
  async coseKey(): Promise<Uint8Array> {
    const jwk = (await crypto.subtle.exportKey('jwk', this.keys.publicKey)) as JsonWebKey;
    const key = new Map<number, Cbor>();
    if (this.algorithm === 'ES256') {
      key.set(1, 2).set(3, -7).set(-1, 1).set(-2, b64(jwk.x!)).set(-3, b64(jwk.y!));
    } else {
      key.set(1, 3).set(3, -257).set(-1, b64(jwk.n!)).set(-2, b64(jwk.e!));
    }
    return cbor(key);
  }

  private async authData(rpId: string, flags: number, counter: number, attested?: Uint8Array): Promise<Uint8Array> {
    const count = [(counter >>> 24) & 0xff, (counter >> 16) & 0xff, (counter >> 8) & 0xff, counter & 0xff];
    return new Uint8Array([...(await sha256(new TextEncoder().encode(rpId))), flags, ...count, ...(attested ?? [])]);
  }

  /**
   * `navigator.credentials.create` for `options` (the Worker's creation options), as
   * `toJSON()` gives it. `attested` replaces the attested credential data (a broken key, say).
   */
  async register(
    options: { challenge: string; rp: { id: string }; user: { id: string } },
    bend: Bend & { coseKey?: Uint8Array; credentialId?: string; fmt?: string } = {},
  ) {
    this.rpId = options.rp.id;
    this.userHandle = options.user.id;
    const clientDataJSON = json({
      type: bend.type ?? 'webauthn.create',
      challenge: bend.challenge ?? options.challenge,
      origin: bend.origin ?? TEST_ORIGIN,
      crossOrigin: bend.crossOrigin ?? false,
    });
    const idBytes = b64(bend.credentialId ?? this.id);
    const attested = new Uint8Array([
      ...new Uint8Array(16), // AAGUID: zeros, as attestation "none" gives it
      idBytes.byteLength >> 8,
      idBytes.byteLength & 0xff,
      ...idBytes,
      ...(bend.coseKey ?? (await this.coseKey())),
    ]);
    const counter = this.counts ? this.counter : 0;
    const authData = await this.authData(
      bend.rpId ?? options.rp.id,
      (bend.flags ?? this.defaultFlags()) | FLAG.AT,
      counter,
      attested,
    );
    const attestationObject = cbor(
      new Map<string, Cbor>([
        ['fmt', bend.fmt ?? 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: { credProps: { rk: true } },
      response: {
        clientDataJSON: base64url(clientDataJSON),
        attestationObject: base64url(attestationObject),
        authenticatorData: base64url(authData),
        transports: ['hybrid', 'internal'],
        publicKeyAlgorithm: ALGORITHMS[this.algorithm].cose,
      },
    };
  }

  /** `navigator.credentials.get` for `options` (a challenge and an RP ID), as `toJSON()` gives it. */
  async assert(options: { challenge: string; rpId?: string }, bend: Bend = {}) {
    if (this.counts && bend.counter === undefined) this.counter++;
    const clientDataJSON = json({
      type: bend.type ?? 'webauthn.get',
      challenge: bend.challenge ?? options.challenge,
      origin: bend.origin ?? TEST_ORIGIN,
      crossOrigin: bend.crossOrigin ?? false,
    });
    const authData = await this.authData(
      bend.rpId ?? options.rpId ?? this.rpId,
      bend.flags ?? this.defaultFlags(),
      bend.counter ?? (this.counts ? this.counter : 0),
    );
    const signed = new Uint8Array([...authData, ...(await sha256(clientDataJSON))]);
    const sign = async () =>
      new Uint8Array(await crypto.subtle.sign(ALGORITHMS[this.algorithm].sign, this.keys.privateKey, signed));
    let raw = await sign();
    while (bend.shortInteger && raw[0] !== 0 && raw[32] !== 0) raw = await sign();
    const userHandle = bend.userHandle === undefined ? this.userHandle : bend.userHandle;
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: base64url(clientDataJSON),
        authenticatorData: base64url(authData),
        signature: base64url(this.algorithm === 'ES256' ? derSignature(raw) : raw),
        ...(userHandle === null ? {} : { userHandle }),
      },
    };
  }
}

export type RegistrationResponse = Awaited<ReturnType<Authenticator['register']>>;
export type AssertionResponse = Awaited<ReturnType<Authenticator['assert']>>;
