/**
 * Which ways of authenticating a node accepts, and how a 401 says so: the WWW-Authenticate
 * challenge names the HTTP schemes (Basic, Bearer) some member can use, and the error
 * description names those and the TLS client certificate, so a client is told only what works.
 */

export interface AcceptedMethods {
  /** some member has a `basic_secret_hash` */
  readonly basic: boolean;
  /** some member has a `jwt_subject` */
  readonly bearer: boolean;
  /** some member is mapped to a client certificate */
  readonly certificate: boolean;
}

const BASIC_CHALLENGE = 'Basic realm="relay", charset="UTF-8"';
const BEARER_CHALLENGE = 'Bearer realm="relay"';

/** The WWW-Authenticate value, or undefined when no HTTP scheme is accepted (certificates only). */
export function challengeFor(methods: AcceptedMethods): string | undefined {
  const schemes = [methods.basic ? BASIC_CHALLENGE : undefined, methods.bearer ? BEARER_CHALLENGE : undefined].filter(
    (s): s is string => s !== undefined,
  );
  return schemes.length > 0 ? schemes.join(', ') : undefined;
}

/** The description of a 401: every method the node accepts, and nothing else. */
export function unauthorizedDescription(methods: AcceptedMethods): string {
  const names = [
    methods.basic ? 'HTTP Basic' : undefined,
    methods.bearer ? 'a Bearer token' : undefined,
    methods.certificate ? 'a TLS client certificate' : undefined,
  ].filter((n): n is string => n !== undefined);
  if (names.length === 0) return 'No member of this node has credentials, so no request can be authenticated.';
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
  return `Valid credentials are required: ${list}.`;
}

/** The challenge of a node that accepts both HTTP schemes (every node whose members use both). */
export const CHALLENGE = challengeFor({ basic: true, bearer: true, certificate: false }) as string;
