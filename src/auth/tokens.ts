/**
 * Member bearer tokens: JWTs signed with the node's ES256 key (jose). The private key lives in
 * the data directory with owner-only permissions and is created on first use.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type CryptoKey } from 'jose';

const ALG = 'ES256';

export interface TokenKeys {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
}

export interface TokenSettings {
  readonly issuer: string;
  readonly audience: string;
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Loads the signing key from `<dataDir>/keys/`, creating it on first use. */
export async function loadOrCreateTokenKeys(dataDir: string): Promise<TokenKeys> {
  const dir = join(dataDir, 'keys');
  const file = join(dir, 'jwt-signing-key.json');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    const kid = randomUUID();
    writeFileSync(file, JSON.stringify({ ...jwk, kid, alg: ALG }), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK & { kid: string };
  const privateKey = (await importJWK(jwk, ALG)) as CryptoKey;
  const { d: _d, ...publicJwk } = jwk;
  const publicKey = (await importJWK(publicJwk, ALG)) as CryptoKey;
  return { kid: jwk.kid, privateKey, publicKey };
}

export async function issueToken(
  keys: TokenKeys,
  settings: TokenSettings,
  subject: string,
  ttl: string,
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: ALG, kid: keys.kid, typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(ttl)
    .sign(keys.privateKey);
}

/** Returns the token's subject, or throws TokenError saying why it is refused. */
export async function verifyToken(keys: TokenKeys, settings: TokenSettings, token: string): Promise<string> {
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys.publicKey, {
      issuer: settings.issuer,
      audience: settings.audience,
      algorithms: [ALG],
      requiredClaims: ['sub', 'exp'],
    });
    if (protectedHeader.kid !== keys.kid) throw new TokenError('unknown signing key');
    return payload.sub as string;
  } catch (cause) {
    if (cause instanceof TokenError) throw cause;
    throw new TokenError('token refused', { cause });
  }
}
