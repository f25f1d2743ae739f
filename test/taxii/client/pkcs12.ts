import forge from 'node-forge';
import { type KeyAndCert } from '../../../src/pki/forge.ts';

/** PKCS#12 (3DES, what OpenSSL 3 reads without the legacy provider) from a PEM key and cert. */
export function toPkcs12(leaf: KeyAndCert, passphrase: string): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    forge.pki.privateKeyFromPem(leaf.keyPem),
    [forge.pki.certificateFromPem(leaf.certPem)],
    passphrase,
    {
      algorithm: '3des',
    },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}
