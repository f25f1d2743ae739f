export { createCa, issueLeaf, type KeyAndCert, type LeafOptions } from './forge.ts';
export { ensureDevCertificates, readTls, type TlsFiles, type TlsMaterial } from './dev.ts';
export { readCaBundle, readServerTls, type ConfiguredFile } from './tls-files.ts';
export {
  CertificateAuthority,
  PkiError,
  fingerprintOf,
  revocationChecker,
  normalizeSerial,
  type AuthorityFiles,
  type CertificateKind,
  type IssuedRecord,
} from './authority.ts';
