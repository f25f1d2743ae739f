import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, type KeyAndCert } from '../../../src/pki/forge.ts';
import { TaxiiClient, TaxiiTlsError, type ClientTls } from '../../../src/taxii/client/index.ts';
import { toPkcs12 } from './pkcs12.ts';
import { startScriptedServer, type ScriptedServer } from '../../upstream/scripted-server.ts';

describe('mutual TLS with an upstream that requires a client certificate', () => {
  let server: ScriptedServer;
  let memberCert: KeyAndCert;
  let strangerCert: KeyAndCert;

  beforeAll(async () => {
    const ca = await createCa('hub CA');
    server = await startScriptedServer({ ca, requestCert: true });
    memberCert = await issueLeaf(ca, { commonName: 'relay-b', kind: 'client', days: 2 });
    const otherCa = await createCa('someone else');
    strangerCert = await issueLeaf(otherCa, { commonName: 'stranger', kind: 'client', days: 2 });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function discover(tls: ClientTls): Promise<unknown> {
    const client = new TaxiiClient({ tls: { ca: server.caPem, ...tls } });
    try {
      return await client.discovery(server.discoveryUrl);
    } catch (error) {
      return error;
    } finally {
      await client.close();
    }
  }

  it('accepts the configured PEM client certificate', async () => {
    expect(await discover({ cert: memberCert.certPem, key: memberCert.keyPem })).toMatchObject({ title: 'Scripted server' });
  });

  it('accepts the same certificate as PKCS#12 with its passphrase', async () => {
    expect(await discover({ pfx: toPkcs12(memberCert, 'p12-pass'), passphrase: 'p12-pass' })).toMatchObject({ title: 'Scripted server' });
  });

  it('without a certificate fails with a TLS error that says a certificate is required', async () => {
    const error = await discover({});
    expect(error).toBeInstanceOf(TaxiiTlsError);
    expect((error as TaxiiTlsError).reason).toMatch(/certificate required/);
  });

  it('with a certificate from a CA the server does not trust fails naming the rejected certificate', async () => {
    const error = await discover({ cert: strangerCert.certPem, key: strangerCert.keyPem });
    expect(error).toBeInstanceOf(TaxiiTlsError);
    expect((error as TaxiiTlsError).reason).toMatch(/unknown CA|client certificate rejected/);
  });

  it('with a wrong PKCS#12 passphrase fails naming the file problem', async () => {
    const error = await discover({ pfx: toPkcs12(memberCert, 'p12-pass'), passphrase: 'wrong' });
    expect(error).toBeInstanceOf(TaxiiTlsError);
    expect((error as TaxiiTlsError).reason).toMatch(/PKCS#12|passphrase/);
  });
});
