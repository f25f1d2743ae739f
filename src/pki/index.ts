export { ensureDevCertificates, type TlsMaterial } from './dev.ts';
export { readCaBundle, readServerTls } from './tls-files.ts';
export { CertificateAuthority, revocationChecker } from './authority.ts';
export { CERTIFICATE_KINDS, type CertificateKind } from './kinds.ts';
