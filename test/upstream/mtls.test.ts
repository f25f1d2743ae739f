import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, issueLeaf, type KeyAndCert } from '../../src/pki/forge.ts';
import { toPkcs12 } from '../taxii/client/pkcs12.ts';
import { indicators, startScriptedServer, type ScriptedServer } from './scripted-server.ts';
import { caFile, keysOf, startPoller } from './support.ts';

describe('an upstream that requires a client certificate', () => {
  let server: ScriptedServer;
  let cert: KeyAndCert;
  const objects = indicators(12, 2);

  beforeAll(async () => {
    const ca = await createCa('hub CA');
    server = await startScriptedServer({ ca, requestCert: true });
    server.add(objects);
    cert = await issueLeaf(ca, { commonName: 'relay-b', kind: 'client', days: 2 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const upstream = (tls: (dir: string) => Record<string, unknown>) => (dir: string) => [
    {
      name: 'hub',
      url: server.discoveryUrl,
      tls: { ca_file: caFile(dir, server.caPem), ...tls(dir) },
      backoff: { auth_retry: '45m' },
      collections: [{ remote: 'feed', local: 'mirror' }],
    },
  ];

  it('accepts B with the configured PEM certificate', async () => {
    const b = startPoller(
      upstream((dir) => {
        writeFileSync(join(dir, 'b.crt'), cert.certPem);
        writeFileSync(join(dir, 'b.key'), cert.keyPem, { mode: 0o600 });
        return { cert_file: join(dir, 'b.crt'), key_file: join(dir, 'b.key') };
      }),
    );
    try {
      const [result] = await b.manager.pollNow();
      expect(result).toMatchObject({ ok: true, caughtUp: true, stored: 24 });
      expect(new Set(b.versions())).toEqual(new Set(keysOf(objects)));
    } finally {
      await b.close();
    }
  });

  it('accepts B with the certificate as PKCS#12 and a passphrase from the environment', async () => {
    const b = startPoller(
      upstream((dir) => {
        writeFileSync(join(dir, 'b.p12'), toPkcs12(cert, 'p12-secret'), { mode: 0o600 });
        return { pfx_file: join(dir, 'b.p12'), passphrase_env: 'HUB_P12_PASSPHRASE' };
      }),
      { env: { HUB_P12_PASSPHRASE: 'p12-secret' } },
    );
    try {
      const [result] = await b.manager.pollNow();
      expect(result).toMatchObject({ ok: true, stored: 24 });
    } finally {
      await b.close();
    }
  });

  it('rejects B without a certificate, and B reports the cause and retries slowly', async () => {
    const b = startPoller(
      upstream(() => ({})),
      { start: true },
    );
    try {
      const [result] = await b.manager.pollNow();
      expect(result?.ok).toBe(false);
      expect(result?.error).toMatch(/upstream "hub": TLS failed: certificate required/);
      const [status] = b.manager.status();
      expect(status).toMatchObject({ state: 'tls-failed' });
      expect(status?.lastError).toMatch(/certificate required/);
      expect(b.waits.at(-1)).toMatchObject({ reason: 'auth-retry', ms: 45 * 60_000 });
      expect(b.versions()).toEqual([]);
    } finally {
      await b.close();
    }
  });
});
