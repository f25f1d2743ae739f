/**
 * Anti-entropy messages (recon-wire.ts): a message signed by a trusted peer for this node is
 * accepted; one by an unknown or a revoked key, a tampered one, one signed for another node or
 * another federation, one claiming another sender, and one sent too long ago are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildPeerTrust,
  initFederationKey,
  loadFederationKey,
  type FederationIdentity,
  type PeerTrust,
} from '../../src/federation/identity.ts';
import { ReconWireError, signRecon, verifyRecon, type ReconPayload } from '../../src/federation/recon-wire.ts';

let dir: string;
let a: FederationIdentity;
let intruder: FederationIdentity;
let trust: PeerTrust;
const check = () => ({ federation: 'isac', self: 'relay-b', trust });

const message = (over: Partial<ReconPayload> = {}): ReconPayload => ({
  federation: 'isac',
  from: 'relay-a',
  to: 'relay-b',
  session: 'AAAAAAAAAAAAAAAAAAAAAA',
  n: 1,
  sentAt: new Date().toISOString(),
  kind: 'fetch',
  collection: '11111111-1111-4111-8111-111111111111',
  ...over,
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-recon-wire-'));
  a = await loadFederationKey((await initFederationKey(join(dir, 'a', 'federation.key'))).path);
  intruder = await loadFederationKey((await initFederationKey(join(dir, 'x', 'federation.key'))).path);
  trust = await buildPeerTrust([{ nodeId: 'relay-a', publicKey: a.publicKeyPem }]);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function refusal(jws: string, over: Partial<ReturnType<typeof check>> = {}, now?: number): Promise<string> {
  const error = await verifyRecon(jws, { ...check(), ...over }, now).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReconWireError);
  return (error as Error).message;
}

describe('anti-entropy messages', () => {
  it("a trusted peer's message to this node is accepted as signed", async () => {
    const sent = message({ kind: 'step', recon: '{"v":1,"e":[]}' });
    expect(await verifyRecon(await signRecon(sent, a), check())).toEqual(sent);
  });

  it('an unknown key, a revoked key and a tampered message are refused', async () => {
    expect(await refusal(await signRecon(message(), intruder))).toMatch(/not a trusted peer/);
    const revoked = { ...trust, revoked: new Set([a.keyId]) };
    expect(await refusal(await signRecon(message(), a), { trust: revoked })).toMatch(/revoked/);
    const [header, payload, signature] = (await signRecon(message(), a)).split('.');
    const forged = Buffer.from(JSON.stringify({ ...message(), kind: 'push' })).toString('base64url');
    expect(payload).not.toBe(forged);
    expect(await refusal(`${header}.${forged}.${signature}`)).toMatch(/does not verify/);
  });

  it('a message for another node or federation, from another sender, or sent long ago is refused', async () => {
    expect(await refusal(await signRecon(message({ to: 'relay-c' }), a))).toMatch(/addressed to relay-c/);
    expect(await refusal(await signRecon(message({ federation: 'other' }), a))).toMatch(/federation other/);
    expect(await refusal(await signRecon(message({ from: 'relay-c' }), a))).toMatch(/signed a message from relay-c/);
    const old = await signRecon(message(), a);
    expect(await refusal(old, {}, Date.now() + 10 * 60_000)).toMatch(/away from now/);
  });
});
