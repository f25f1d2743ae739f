/**
 * /healthz and /readyz answer without credentials; /readyz names what is not ready: an upstream
 * stopped on refused credentials, a federated node whose NATS server went away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../../src/pki/index.ts';
import { readinessOf } from '../../../src/taxii/server/health.ts';
import { initFederationKey } from '../../../src/federation/identity.ts';
import { startNatsServer, type RunningNatsServer } from '../../federation/nats-server.ts';
import { startTestNode, type TestNode } from '../../support/node.ts';

describe('health endpoints', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    if (t) rmSync(t.dir, { recursive: true, force: true });
  });

  it('/healthz answers 200 without credentials', async () => {
    const res = await t.request('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ status: 'alive' });
  });

  it('/readyz answers 200 without credentials when the store is readable and nothing is stopped', async () => {
    const res = await t.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, checks: { store: 'ok', upstreams: 'ok' } });
  });

  it('the TAXII endpoints still require credentials', async () => {
    const res = await t.request('/taxii2/', { headers: { accept: 'application/taxii+json;version=2.1' } });
    expect(res.status).toBe(401);
  });
});

describe('readiness', () => {
  it('is not ready while an upstream subscription is stopped on credentials, TLS or configuration', () => {
    for (const state of ['auth-failed', 'tls-failed', 'config-error']) {
      const r = readinessOf({ storeError: null, upstreams: [{ key: 'hub/a', state }], federation: undefined });
      expect(r.ready).toBe(false);
      expect(r.checks.upstreams).toBe(`stopped: hub/a (${state})`);
    }
  });

  it('stays ready while an upstream is merely failing or backing off (it keeps retrying)', () => {
    const upstreams = [
      { key: 'hub/a', state: 'failing' },
      { key: 'hub/b', state: 'backing-off' },
      { key: 'hub/c', state: 'never-polled' },
    ];
    expect(readinessOf({ storeError: null, upstreams, federation: undefined }).ready).toBe(true);
  });

  it('is not ready when the store cannot be read or the federation is not connected', () => {
    expect(readinessOf({ storeError: 'closed', upstreams: [], federation: undefined }).checks.store).toBe('cannot read the store: closed');
    const r = readinessOf({ storeError: null, upstreams: [], federation: 'disconnected' });
    expect(r).toEqual({ ready: false, checks: { store: 'ok', upstreams: 'ok', federation: 'NATS disconnected' } });
  });
});

describe('/readyz of a federated node', () => {
  let dir: string;
  let nats: RunningNatsServer | undefined;
  let t: TestNode | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-readyz-'));
    const ca = await CertificateAuthority.init({ dir: join(dir, 'pki') }, 'Federation CA');
    const server = await ca.issue('server', 'nats', { altNames: ['127.0.0.1', 'localhost'] });
    nats = await startNatsServer({ certFile: server.certPath, keyFile: server.keyPath, caFile: ca.caCertPath, verify: true }, 15_000, {
      jetstream: true,
    });
    const cert = await ca.issue('node', 'relay-a');
    const keyFile = (await initFederationKey(join(dir, 'keys', 'federation.key'))).path;
    t = await startTestNode((data) => {
      data.node.id = 'relay-a';
      data.federation = {
        servers: [nats?.url],
        tls: { cert: cert.certPath, key: cert.keyPath, ca: ca.caCertPath },
        name: 'isac',
        key_file: keyFile,
      };
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await nats?.stop();
    if (t) rmSync(t.dir, { recursive: true, force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is ready while connected and turns not-ready (503, naming NATS) when the NATS server goes away', async () => {
    const node = t as TestNode;
    const before = await node.request('/readyz');
    expect(before.status).toBe(200);
    expect(((await before.json()) as { checks: Record<string, string> }).checks.federation).toBe('ok');

    await nats?.stop();
    let last: { status: number; body: unknown } = { status: 0, body: undefined };
    for (let i = 0; i < 200; i++) {
      const res = await node.request('/readyz');
      last = { status: res.status, body: await res.json() };
      if (res.status === 503) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(last.status).toBe(503);
    expect(last.body).toMatchObject({ ready: false, checks: { federation: 'NATS disconnected' } });
  });
});
