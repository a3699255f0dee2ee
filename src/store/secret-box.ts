// AAA shared secrets at rest: AES-256-GCM with a key kept outside the database (a file in
// dataDir created 0600, or the environment), so a copy of the database (a dump, a replica,
// a backup) does not give away the RADIUS secrets.
//
// Stored form: "pmip6enc:v1:<key id>:<base64 of iv(12) | tag(16) | ciphertext>", the key id
// being the first 8 hex digits of SHA-256 over the key. Rotation: start with the new key
// as the key and the old one among the previous keys; rows sealed with an old key are
// re-sealed with the new one at start (AaaClientRepo.reseal), after which the old key can go.
// A lost key: the secrets cannot be read back (the RADIUS clients concerned are refused and
// logged once each) until the operator enters each secret again through the API.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'pmip6enc:v1:';

export class SecretKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretKeyError';
  }
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class SecretBox {
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly key: Buffer, previous: Buffer[] = []) {
    if (key.length !== 32) throw new SecretKeyError('the secret key must be 32 bytes');
    this.keyId = keyId(key);
    this.keys.set(this.keyId, key);
    for (const k of previous) if (k.length === 32) this.keys.set(keyId(k), k);
  }

  /** A box with a key of its own that lives as long as the process (tests, in-memory stores). */
  static ephemeral(): SecretBox {
    return new SecretBox(randomBytes(32));
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `${PREFIX}${this.keyId}:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64')}`;
  }

  /** The plain secret. A value stored before encryption existed comes back as it is. */
  open(stored: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    const rest = stored.slice(PREFIX.length);
    const i = rest.indexOf(':');
    const id = rest.slice(0, i);
    const key = this.keys.get(id);
    if (!key) throw new SecretKeyError(`secret sealed with key ${id}, which is not configured (key ${this.keyId} is)`);
    const raw = Buffer.from(rest.slice(i + 1), 'base64');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }

  /** Sealed with the current key (false for plaintext and for previous keys). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${PREFIX}${this.keyId}:`);
  }
}

function parseKey(text: string, where: string): Buffer {
  const t = text.trim();
  const k = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (k.length !== 32) throw new SecretKeyError(`${where}: a secret key is 32 bytes, as 64 hex digits or base64`);
  return k;
}

/**
 * The key from `security.secretKey` (hex or base64), else from the file (created with a
 * random key, mode 0600, when missing), plus the previous keys for rotation.
 */
export function loadSecretBox(o: { key: string; file: string; previous: string[] }): { box: SecretBox; source: string } {
  const previous = o.previous.map((p, i) => parseKey(p, `security.previousSecretKeys[${i}]`));
  if (o.key) return { box: new SecretBox(parseKey(o.key, 'security.secretKey'), previous), source: 'security.secretKey' };
  if (!existsSync(o.file)) {
    mkdirSync(dirname(o.file), { recursive: true, mode: 0o700 });
    writeFileSync(o.file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(o.file, 0o600);
  return { box: new SecretBox(parseKey(readFileSync(o.file, 'utf8'), o.file), previous), source: o.file };
}
