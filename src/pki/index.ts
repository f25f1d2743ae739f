export { ensureDevCertificates, type TlsMaterial } from './dev.ts';
export { readCaBundle, readServerTls } from './tls-files.ts';
export { CertificateAuthority, revocationChecker, type CertificateKind } from './authority.ts';
