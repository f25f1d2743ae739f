/**
 * Member identity: HTTP Basic (scrypt-hashed secret), Bearer (JWT) or a TLS client
 * certificate, as each member's credentials allow. Every failure looks the same to the
 * client; the reason is kept for the log.
 */
import type { MemberConfig, RelayConfig } from '../config/index.ts';
import { normalizeHex, normalizeSerialNumber, type PeerCertificate } from './certificates.ts';
import { verifySecret } from './secrets.ts';
import { durationSeconds, verifyToken, type TokenKeys, type TokenSettings } from './tokens.ts';

export interface Member {
  readonly id: string;
  readonly name: string;
  readonly config: MemberConfig;
}

export type Authentication =
  | { readonly ok: true; readonly member: Member; readonly scheme: 'basic' | 'bearer' | 'certificate' }
  | { readonly ok: false; readonly reason: string };

export const CHALLENGE = 'Basic realm="relay", charset="UTF-8", Bearer realm="relay"';

export class Authenticator {
  private readonly byId = new Map<string, MemberConfig>();
  private readonly bySubject = new Map<string, MemberConfig>();
  private readonly byFingerprint = new Map<string, MemberConfig>();
  private readonly byCertSubject = new Map<string, MemberConfig>();

  constructor(
    members: readonly MemberConfig[],
    private readonly tokenKeys: TokenKeys,
    private readonly tokenSettings: TokenSettings,
    /** whether a client certificate serial is revoked (normalized lowercase hex) */
    private readonly isRevoked: (serial: string) => boolean = () => false,
  ) {
    for (const m of members) {
      this.byId.set(m.id, m);
      if (m.credentials.jwt_subject) this.bySubject.set(m.credentials.jwt_subject, m);
      if (m.credentials.cert_fingerprint) this.byFingerprint.set(normalizeHex(m.credentials.cert_fingerprint), m);
      if (m.credentials.cert_subject) this.byCertSubject.set(m.credentials.cert_subject, m);
    }
  }

  static fromConfig(config: RelayConfig, keys: TokenKeys, isRevoked?: (serial: string) => boolean): Authenticator {
    return new Authenticator(config.members, keys, tokenSettings(config), isRevoked);
  }

  /** Whether any member may authenticate with a client certificate. */
  get acceptsCertificates(): boolean {
    return this.byFingerprint.size > 0 || this.byCertSubject.size > 0;
  }

  /** Maps a client certificate the TLS layer verified to the member it belongs to. */
  authenticateCertificate(peer: PeerCertificate): Authentication {
    if (!peer.authorized) {
      return { ok: false, reason: `client certificate refused: ${peer.authorizationError ?? 'not verified by the client CA'}` };
    }
    if (peer.serialNumber && this.isRevoked(normalizeSerialNumber(peer.serialNumber))) {
      return { ok: false, reason: `client certificate ${normalizeSerialNumber(peer.serialNumber)} is revoked` };
    }
    const member =
      (peer.fingerprint256 ? this.byFingerprint.get(normalizeHex(peer.fingerprint256)) : undefined) ??
      (peer.subjectCommonName ? this.byCertSubject.get(peer.subjectCommonName) : undefined);
    if (!member) {
      return { ok: false, reason: `client certificate "${(peer.subjectCommonName ?? '').slice(0, 64)}" belongs to no member` };
    }
    return { ok: true, member: toMember(member), scheme: 'certificate' };
  }

  async authenticate(authorization: string | undefined): Promise<Authentication> {
    if (!authorization) return { ok: false, reason: 'no credentials' };
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'basic') return this.basic(value);
    if (scheme === 'bearer') return this.bearer(value);
    return { ok: false, reason: `unsupported authorization scheme "${scheme.slice(0, 20)}"` };
  }

  private async basic(encoded: string): Promise<Authentication> {
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { ok: false, reason: 'malformed Basic credentials' };
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const member = this.byId.get(id);
    const hash = member?.credentials.basic_secret_hash;
    // Verify against a fixed dummy hash when the member is unknown, so timing does not tell.
    const ok = await verifySecret(secret, hash ?? DUMMY_HASH);
    if (!member || !hash || !ok) return { ok: false, reason: `Basic authentication failed for "${id.slice(0, 64)}"` };
    return { ok: true, member: toMember(member), scheme: 'basic' };
  }

  private async bearer(token: string): Promise<Authentication> {
    try {
      const subject = await verifyToken(this.tokenKeys, this.tokenSettings, token);
      const member = this.bySubject.get(subject);
      if (!member) return { ok: false, reason: `token subject "${subject.slice(0, 64)}" is not a member` };
      return { ok: true, member: toMember(member), scheme: 'bearer' };
    } catch (error) {
      return { ok: false, reason: `bearer token refused: ${(error as Error).message}` };
    }
  }
}

export function tokenSettings(config: RelayConfig): TokenSettings {
  return {
    issuer: config.auth.jwt_issuer,
    audience: config.auth.jwt_audience,
    maxTtlSeconds: durationSeconds(config.auth.max_token_ttl),
  };
}

// scrypt hash of a random value nobody knows; used only to equalize timing.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

function toMember(config: MemberConfig): Member {
  return { id: config.id, name: config.name, config };
}
