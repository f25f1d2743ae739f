/**
 * Member identity from a TLS client certificate. The TLS layer verifies the chain against the
 * configured client CA (and the validity period); here the verified certificate is mapped to a
 * member by SHA-256 fingerprint or subject common name, and refused when revoked.
 */
export interface PeerCertificate {
  /** whether the TLS layer verified the chain against the client CA */
  readonly authorized: boolean;
  /** the TLS layer's reason when not authorized (e.g. CERT_HAS_EXPIRED) */
  readonly authorizationError?: string | undefined;
  /** "AB:CD:…" as Node reports it */
  readonly fingerprint256?: string | undefined;
  readonly subjectCommonName?: string | undefined;
  readonly serialNumber?: string | undefined;
}

/** Lowercase hex without separators, for fingerprints and serial numbers alike. */
export function normalizeHex(value: string): string {
  return value.toLowerCase().replace(/[^0-9a-f]/g, '');
}

/** Serial numbers compare without leading zeros (Node and node-forge differ on them). */
export function normalizeSerialNumber(value: string): string {
  return normalizeHex(value).replace(/^0+(?=.)/, '');
}

/** Reads the TLS peer certificate of a Node socket, if it is a TLS socket that sent one. */
export function peerCertificateOf(socket: unknown): PeerCertificate | undefined {
  const tls = socket as {
    encrypted?: boolean;
    authorized?: boolean;
    authorizationError?: Error | string | null;
    getPeerCertificate?: () => { fingerprint256?: string; subject?: { CN?: string | string[] }; serialNumber?: string } | null;
  };
  if (!tls?.encrypted || typeof tls.getPeerCertificate !== 'function') return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = cert.subject?.CN;
  return {
    authorized: tls.authorized === true,
    authorizationError: tls.authorizationError ? String((tls.authorizationError as Error).message ?? tls.authorizationError) : undefined,
    fingerprint256: cert.fingerprint256,
    subjectCommonName: Array.isArray(cn) ? cn[0] : cn,
    serialNumber: cert.serialNumber,
  };
}
