/**
 * Member bearer tokens: ES256 JWTs (jose) signed with the node's current key. Keys rotate:
 * `relay token rotate` adds a new signing key and retires the old one, which still verifies
 * tokens until the longest token lifetime has passed since its retirement. Public keys are
 * published as a JWKS. Revoked token ids (`jti`) are refused until the token would expire.
 *
 *   <data_dir>/keys/jwt-keys.json        {keys: [{kid, jwk, created, retired?}]}   (0600)
 *   <data_dir>/keys/revoked-tokens.json  {revoked: [{jti, sub, exp}]}             (0600)
 *
 * A running node re-reads both files when they change (checked at most once a second), so a
 * rotation or revocation made with the CLI takes effect without a restart.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

const ALG = 'ES256';
const KEYS_FILE = 'jwt-keys.json';
const REVOKED_FILE = 'revoked-tokens.json';

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
  /** longest lifetime a token may be issued with, in seconds (bounds key retention) */
  readonly maxTtlSeconds?: number;
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

interface StoredKey {
  kid: string;
  jwk: JWK;
  created: string;
  retired?: string;
}

interface RevokedToken {
  jti: string;
  sub: string;
  exp: number;
}

export const DEFAULT_MAX_TTL_SECONDS = 30 * 86_400;

function writeOwnerOnly(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  chmodSync(path, 0o600);
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Parses "30m", "12h", "7d", "45s" into seconds. */
export function durationSeconds(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) throw new TokenError(`invalid duration "${text}": expected a number and s, m, h or d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** The node's token signing keys and revocation list, backed by files in `<dataDir>/keys`. */
export class TokenKeys {
  private keys: Array<StoredKey & { publicKey: CryptoKey; privateKey: CryptoKey }> = [];
  private revoked = new Map<string, RevokedToken>();
  private seen = { keys: 0, revoked: 0, checkedAt: 0 };

  private constructor(private readonly dir: string) {}

  static async load(dataDir: string): Promise<TokenKeys> {
    const ring = new TokenKeys(join(dataDir, 'keys'));
    if (!existsSync(join(ring.dir, KEYS_FILE))) await ring.addKey();
    await ring.reload();
    return ring;
  }

  /** The key new tokens are signed with (the newest one). */
  get current(): { kid: string; privateKey: CryptoKey } {
    const key = this.keys[this.keys.length - 1];
    if (!key) throw new TokenError('no signing key');
    return key;
  }

  get kid(): string {
    return this.current.kid;
  }

  /** Public keys that still verify tokens, as a JWKS document. */
  jwks(): { keys: JWK[] } {
    return {
      keys: this.keys.map(({ jwk, kid }) => {
        const { d: _private, ...pub } = jwk;
        return { ...pub, kid, alg: ALG, use: 'sig' };
      }),
    };
  }

  /** Adds a new signing key; the previous ones are retired but keep verifying. */
  async rotate(settings: TokenSettings): Promise<string> {
    await this.reload();
    const kid = await this.addKey(settings);
    await this.reload();
    return kid;
  }

  async issue(settings: TokenSettings, subject: string, ttl: string): Promise<{ token: string; jti: string; exp: number }> {
    const seconds = durationSeconds(ttl);
    const max = settings.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
    if (seconds > max) throw new TokenError(`a token may live at most ${max} seconds (auth.max_token_ttl)`);
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + seconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: ALG, kid: this.current.kid, typ: 'JWT' })
      .setSubject(subject)
      .setIssuer(settings.issuer)
      .setAudience(settings.audience)
      .setIssuedAt(now)
      .setJti(jti)
      .setExpirationTime(exp)
      .sign(this.current.privateKey);
    return { token, jti, exp };
  }

  /** Revokes one token (by its `jti`, or the token text itself). */
  revoke(tokenOrJti: string): RevokedToken {
    let entry: RevokedToken;
    if (tokenOrJti.includes('.')) {
      let claims: JWTPayload;
      try {
        claims = decodeJwt(tokenOrJti);
      } catch (cause) {
        throw new TokenError('not a JWT', { cause });
      }
      if (!claims.jti || !claims.exp) throw new TokenError('the token has no jti or exp; it was not issued by this node');
      entry = { jti: claims.jti, sub: claims.sub ?? '', exp: claims.exp };
    } else {
      // Without the token we do not know its expiry: keep the entry for the longest lifetime.
      entry = { jti: tokenOrJti, sub: '', exp: Math.floor(Date.now() / 1000) + DEFAULT_MAX_TTL_SECONDS };
    }
    const now = Math.floor(Date.now() / 1000);
    const list = [...this.readRevoked().values()].filter((r) => r.exp > now && r.jti !== entry.jti);
    list.push(entry);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeOwnerOnly(join(this.dir, REVOKED_FILE), { revoked: list });
    this.revoked = new Map(list.map((r) => [r.jti, r]));
    return entry;
  }

  /** Returns the token's subject, or throws TokenError saying why it is refused. */
  async verify(settings: TokenSettings, token: string): Promise<string> {
    await this.refreshIfChanged();
    try {
      const { payload } = await jwtVerify(
        token,
        async (header) => {
          const key = this.keys.find((k) => k.kid === header.kid);
          if (!key) throw new TokenError(`unknown signing key "${String(header.kid).slice(0, 64)}"`);
          return key.publicKey;
        },
        { issuer: settings.issuer, audience: settings.audience, algorithms: [ALG], requiredClaims: ['sub', 'exp', 'jti'] },
      );
      if (this.revoked.has(payload.jti as string)) throw new TokenError('token revoked');
      return payload.sub as string;
    } catch (cause) {
      if (cause instanceof TokenError) throw cause;
      throw new TokenError((cause as Error).message ?? 'token refused', { cause });
    }
  }

  private async refreshIfChanged(): Promise<void> {
    const now = Date.now();
    if (now - this.seen.checkedAt < 1000) return;
    this.seen.checkedAt = now;
    if (mtime(join(this.dir, KEYS_FILE)) !== this.seen.keys || mtime(join(this.dir, REVOKED_FILE)) !== this.seen.revoked) {
      await this.reload();
    }
  }

  private async reload(): Promise<void> {
    const path = join(this.dir, KEYS_FILE);
    chmodSync(path, 0o600);
    this.seen.keys = mtime(path);
    this.seen.revoked = mtime(join(this.dir, REVOKED_FILE));
    const stored = (JSON.parse(readFileSync(path, 'utf8')) as { keys: StoredKey[] }).keys;
    this.keys = await Promise.all(
      stored.map(async (k) => {
        const { d: _d, ...pub } = k.jwk;
        return { ...k, privateKey: (await importJWK(k.jwk, ALG)) as CryptoKey, publicKey: (await importJWK(pub, ALG)) as CryptoKey };
      }),
    );
    this.revoked = this.readRevoked();
  }

  private readRevoked(): Map<string, RevokedToken> {
    const path = join(this.dir, REVOKED_FILE);
    if (!existsSync(path)) return new Map();
    const list = (JSON.parse(readFileSync(path, 'utf8')) as { revoked: RevokedToken[] }).revoked;
    return new Map(list.map((r) => [r.jti, r]));
  }

  private async addKey(settings?: TokenSettings): Promise<string> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, KEYS_FILE);
    const existing = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { keys: StoredKey[] }).keys : [];
    const now = new Date();
    const keepFor = (settings?.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS) * 1000;
    // Retire the current key; drop keys retired longer ago than any token can live.
    const kept = existing
      .map((k) => (k.retired ? k : { ...k, retired: now.toISOString() }))
      .filter((k) => now.getTime() - Date.parse(k.retired as string) < keepFor);
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomUUID();
    kept.push({ kid, jwk: await exportJWK(privateKey), created: now.toISOString() });
    writeOwnerOnly(path, { keys: kept });
    return kid;
  }
}

/** Loads the node's token keys from `<dataDir>/keys/`, creating the first key on first use. */
export function loadOrCreateTokenKeys(dataDir: string): Promise<TokenKeys> {
  return TokenKeys.load(dataDir);
}

export async function issueToken(keys: TokenKeys, settings: TokenSettings, subject: string, ttl: string): Promise<string> {
  return (await keys.issue(settings, subject, ttl)).token;
}

export function verifyToken(keys: TokenKeys, settings: TokenSettings, token: string): Promise<string> {
  return keys.verify(settings, token);
}
