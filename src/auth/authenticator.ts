/**
 * Who a request comes from: a member or an admin, by HTTP Basic (scrypt-hashed secret), Bearer
 * (JWT) or a TLS client certificate, as each one's credentials allow. Members and admins are
 * checked by the same code with the same limits (their ids, token subjects and certificates are
 * distinct: config/principals.ts), and the answer says which kind of principal it is; what each
 * may reach is decided by the server (an admin reads no collection, a member no review). Every
 * failure looks the same to the client; the reason is kept for the log.
 *
 * A Basic password check is the one expensive step an unauthenticated client can cause, so it is
 * guarded, in this order: the failed-login limiter (per client address and per address and
 * member id; refused before anything is hashed), the cache of recent successful checks, then a
 * bounded queue of concurrent scrypt checks (identical headers share one check). Bearer tokens
 * and certificates pass none of these.
 */
import type { AdminConfig, MemberConfig, RelayConfig } from '../config/index.ts';
import { BasicCache } from './basic-cache.ts';
import { normalizeHex, normalizeSerialNumber, type PeerCertificate } from './certificates.ts';
import { CheckQueue, type CheckQueueLimits } from './check-queue.ts';
import { clientKey, FailedLoginLimiter, type FailedLoginLimits } from './failed-logins.ts';
import type { AcceptedMethods } from './methods.ts';
import { verifySecret } from './secrets.ts';
import { durationSeconds, verifyToken, type TokenKeys, type TokenSettings } from './tokens.ts';

export interface Member {
  readonly id: string;
  readonly name: string;
  readonly config: MemberConfig;
}

/** An operator who reviews share-back (the `/admin/` API); not a member: it holds no grants. */
export interface Admin {
  readonly id: string;
  readonly name: string;
}

/** Who an authenticated request comes from. */
export type Principal = { readonly kind: 'member'; readonly member: Member } | { readonly kind: 'admin'; readonly admin: Admin };

export type Authentication =
  { readonly ok: true; readonly principal: Principal; readonly scheme: 'basic' | 'bearer' | 'certificate' } | Refusal;

/** The people who may authenticate. */
export interface Accounts {
  readonly members: readonly MemberConfig[];
  readonly admins?: readonly AdminConfig[] | undefined;
}

type Credentials = MemberConfig['credentials'];

/** A principal with the credentials it authenticates with. */
interface Account {
  readonly principal: Principal;
  readonly credentials: Credentials;
}

/** Why a request is not authenticated; `reason` is for the log, never for the client. */
export type Refusal =
  /** wrong or missing credentials; `limitReached` when this failure used up a failed-login limit */
  | { readonly ok: false; readonly refusal: 'unauthorized'; readonly reason: string; readonly limitReached?: boolean }
  /** the client's failed-login allowance is used up: nothing was checked */
  | { readonly ok: false; readonly refusal: 'too-many-failures'; readonly reason: string; readonly retryAfterSeconds: number }
  /** the client's address already has as many password checks in progress as it may: nothing was checked */
  | { readonly ok: false; readonly refusal: 'too-many-checks'; readonly reason: string; readonly retryAfterSeconds: number }
  /** too many password checks are waiting: nothing was checked */
  | { readonly ok: false; readonly refusal: 'busy'; readonly reason: string; readonly retryAfterSeconds: number };

/** Where a request comes from. */
export interface Client {
  /** the peer's IP address (IPv6 clients are limited per /64) */
  readonly address?: string | undefined;
}

export interface PasswordCheckLimits {
  readonly failedLogins: FailedLoginLimits;
  readonly checks: CheckQueueLimits;
}

export class Authenticator {
  private readonly byId = new Map<string, Account>();
  private readonly bySubject = new Map<string, Account>();
  private readonly byFingerprint = new Map<string, Account>();
  private readonly byCertSubject = new Map<string, Account>();
  private readonly limiter: FailedLoginLimiter;
  private readonly checks: CheckQueue;
  private readonly anyBasic: boolean;
  /** password checks in progress by Authorization header hash: identical logins share one */
  private readonly inProgress = new Map<string, Promise<Principal | undefined>>();

  constructor(
    accounts: Accounts,
    private readonly tokenKeys: TokenKeys,
    private readonly tokenSettings: TokenSettings,
    /** whether a client certificate serial is revoked (normalized lowercase hex) */
    private readonly isRevoked: (serial: string) => boolean,
    passwordChecks: PasswordCheckLimits,
    private readonly cache = new BasicCache(),
  ) {
    this.limiter = new FailedLoginLimiter(passwordChecks.failedLogins);
    this.checks = new CheckQueue(passwordChecks.checks);
    const all: Account[] = [
      ...accounts.members.map((m): Account => ({ principal: { kind: 'member', member: toMember(m) }, credentials: m.credentials })),
      ...(accounts.admins ?? []).map((a): Account => ({ principal: { kind: 'admin', admin: toAdmin(a) }, credentials: a.credentials })),
    ];
    this.anyBasic = all.some((a) => a.credentials.basic_secret_hash !== undefined);
    for (const account of all) {
      const { credentials } = account;
      this.byId.set(idOf(account.principal), account);
      if (credentials.jwt_subject) this.bySubject.set(credentials.jwt_subject, account);
      if (credentials.cert_fingerprint) this.byFingerprint.set(normalizeHex(credentials.cert_fingerprint), account);
      if (credentials.cert_subject) this.byCertSubject.set(credentials.cert_subject, account);
    }
  }

  static fromConfig(config: RelayConfig, keys: TokenKeys, isRevoked: (serial: string) => boolean = () => false): Authenticator {
    return new Authenticator(
      { members: config.members, admins: config.admins },
      keys,
      tokenSettings(config),
      isRevoked,
      passwordCheckLimits(config),
    );
  }

  /** Whether anyone (member or admin) may authenticate with a client certificate. */
  get acceptsCertificates(): boolean {
    return this.byFingerprint.size > 0 || this.byCertSubject.size > 0;
  }

  /** The ways someone can authenticate (what a 401 names). */
  get methods(): AcceptedMethods {
    return { basic: this.anyBasic, bearer: this.bySubject.size > 0, certificate: this.acceptsCertificates };
  }

  /** Maps a client certificate the TLS layer verified to the member or admin it belongs to. */
  authenticateCertificate(peer: PeerCertificate): Authentication {
    if (!peer.authorized) {
      return unauthorized(`client certificate refused: ${peer.authorizationError ?? 'not verified by the client CA'}`);
    }
    if (peer.serialNumber && this.isRevoked(normalizeSerialNumber(peer.serialNumber))) {
      return unauthorized(`client certificate ${normalizeSerialNumber(peer.serialNumber)} is revoked`);
    }
    const account =
      (peer.fingerprint256 ? this.byFingerprint.get(normalizeHex(peer.fingerprint256)) : undefined) ??
      (peer.subjectCommonName ? this.byCertSubject.get(peer.subjectCommonName) : undefined);
    if (!account) {
      return unauthorized(`client certificate "${(peer.subjectCommonName ?? '').slice(0, 64)}" belongs to no member`);
    }
    return { ok: true, principal: account.principal, scheme: 'certificate' };
  }

  async authenticate(authorization: string | undefined, client: Client = {}): Promise<Authentication> {
    if (!authorization) return unauthorized('no credentials');
    const space = authorization.indexOf(' ');
    const scheme = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'basic') return this.basic(authorization, value, clientKey(client.address));
    if (scheme === 'bearer') return this.bearer(value);
    return unauthorized(`unsupported authorization scheme "${scheme.slice(0, 20)}"`);
  }

  private async basic(header: string, encoded: string, from: string): Promise<Authentication> {
    if (!this.anyBasic) return unauthorized('HTTP Basic is not enabled: no member has a basic_secret_hash');
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return unauthorized('malformed Basic credentials');
    const id = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const who = `"${id.slice(0, 64)}" from ${from}`;
    // The limiter comes before the cache: a blocked client must not learn, even for free,
    // whether a guess matches a password someone used recently.
    const blocked = this.limiter.blocked(from, id);
    if (blocked) return tooManyFailures(who, blocked);
    const key = BasicCache.key(header);
    const cached = this.cache.get(key, Date.now());
    if (cached) return { ok: true, principal: cached, scheme: 'basic' };
    // The same header already being checked (a client opening several connections at once):
    // share that check. Repeating a guess tells nothing new, so it costs no attempt either.
    const shared = this.inProgress.get(key);
    if (shared) {
      const principal = await shared;
      return principal ? { ok: true, principal, scheme: 'basic' } : unauthorized(`Basic authentication failed for ${who}`);
    }

    const admission = this.limiter.admit(from, id);
    if (!admission.ok) return tooManyFailures(who, admission);
    const queued = this.checks.run(from, () => this.checkSecret(id, secret));
    if (!queued.ok) {
      admission.attempt.refund();
      const reason = `password check for ${who} not queued`;
      return queued.reason === 'client-busy'
        ? { ok: false, refusal: 'too-many-checks', reason: `${reason}: this address has too many in progress`, retryAfterSeconds: 1 }
        : { ok: false, refusal: 'busy', reason: `${reason}: the queue is full`, retryAfterSeconds: 1 };
    }
    this.inProgress.set(key, queued.value);
    let principal: Principal | undefined;
    try {
      principal = await queued.value;
    } catch (error) {
      admission.attempt.refund();
      throw error;
    } finally {
      this.inProgress.delete(key);
    }
    if (!principal) {
      const { exhausted } = admission.attempt.fail();
      return { ok: false, refusal: 'unauthorized', reason: `Basic authentication failed for ${who}`, limitReached: exhausted };
    }
    admission.attempt.refund();
    this.cache.set(key, principal, Date.now());
    return { ok: true, principal, scheme: 'basic' };
  }

  /** The member or admin whose secret this is, or undefined; always hashes once (unknown ids too). */
  private async checkSecret(id: string, secret: string): Promise<Principal | undefined> {
    const account = this.byId.get(id);
    const hash = account?.credentials.basic_secret_hash;
    // Verify against a fixed dummy hash when the id is unknown, so timing does not tell.
    const ok = await verifySecret(secret, hash ?? DUMMY_HASH);
    return account && hash && ok ? account.principal : undefined;
  }

  private async bearer(token: string): Promise<Authentication> {
    try {
      const subject = await verifyToken(this.tokenKeys, this.tokenSettings, token);
      const account = this.bySubject.get(subject);
      if (!account) return unauthorized(`token subject "${subject.slice(0, 64)}" is not a member`);
      return { ok: true, principal: account.principal, scheme: 'bearer' };
    } catch (error) {
      return unauthorized(`bearer token refused: ${(error as Error).message}`);
    }
  }
}

function unauthorized(reason: string): Refusal {
  return { ok: false, refusal: 'unauthorized', reason };
}

function tooManyFailures(who: string, refused: { retryAfterSeconds: number; limit: 'address' | 'address-member' }): Refusal {
  const scope = refused.limit === 'address' ? 'this address' : 'this member id from this address';
  return {
    ok: false,
    refusal: 'too-many-failures',
    reason: `Basic login for ${who} refused unchecked: too many failed logins for ${scope}`,
    retryAfterSeconds: refused.retryAfterSeconds,
  };
}

/** The password-check limits of `auth.failed_logins` and `auth.password_checks`. */
export function passwordCheckLimits(config: RelayConfig): PasswordCheckLimits {
  const { failed_logins: f, password_checks: p } = config.auth;
  return {
    failedLogins: {
      perAddress: f.per_address,
      perAddressMember: f.per_address_member,
      windowMs: durationSeconds(f.window) * 1000,
      maxTracked: f.tracked_keys,
    },
    checks: { concurrency: p.concurrency, queue: p.queue, perClient: p.per_address },
  };
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

function toAdmin(config: AdminConfig): Admin {
  return { id: config.id, name: config.name };
}

function idOf(principal: Principal): string {
  return principal.kind === 'member' ? principal.member.id : principal.admin.id;
}
