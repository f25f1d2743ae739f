/**
 * The admission gate for page work: slots, a bounded queue served in arrival order, each
 * member's share, and the 429/503 refusals with Retry-After.
 */
import { describe, expect, it } from 'vitest';
import { PageGate, type AdmissionLimits, type Permit, type Refusal } from '../../../src/taxii/server/admission.ts';
import { TaxiiError } from '../../../src/taxii/server/errors.ts';

const LIMITS: AdmissionLimits = { inFlight: 2, queueLength: 3, queueTimeoutMs: 60_000, perMember: 10, retryAfterSeconds: 7 };
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** enough turns for every admission that can happen to happen */
const settle = async (turns = 20) => {
  for (let i = 0; i < turns; i++) await turn();
};

/** Admits and records the order of admissions (and refusals) by label. */
function recorder(gate: PageGate) {
  const admitted: string[] = [];
  const permits = new Map<string, Permit>();
  const refused = new Map<string, unknown>();
  const ask = (label: string, member = label, signal?: AbortSignal) =>
    gate.admit(member, signal).then(
      (p) => {
        admitted.push(label);
        permits.set(label, p);
      },
      (e: unknown) => {
        refused.set(label, e);
      },
    );
  return { admitted, permits, refused, ask };
}

const asTaxii = (e: unknown) => {
  expect(e).toBeInstanceOf(TaxiiError);
  return e as TaxiiError;
};

describe('PageGate', () => {
  it('admits up to the slot count and then the waiters in arrival order as slots are released', async () => {
    const gate = new PageGate(LIMITS);
    const r = recorder(gate);
    for (const label of ['a', 'b', 'c', 'd', 'e']) void r.ask(label);
    await settle();
    expect(r.admitted).toEqual(['a', 'b']);
    expect(gate.load).toEqual({ inFlight: 2, queued: 3 });
    r.permits.get('b')?.release();
    await settle();
    expect(r.admitted).toEqual(['a', 'b', 'c']);
    r.permits.get('a')?.release();
    r.permits.get('c')?.release();
    await settle();
    expect(r.admitted).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(r.refused.size).toBe(0);
  });

  it('answers 503 with Retry-After when the queue is full', async () => {
    const gate = new PageGate(LIMITS);
    const r = recorder(gate);
    // two take the slots, three wait, the sixth is refused
    for (const label of ['a', 'b', 'c', 'd', 'e', 'f']) void r.ask(label);
    await settle();
    expect(r.admitted).toEqual(['a', 'b']);
    expect([...r.refused.keys()]).toEqual(['f']);
    const error = asTaxii(r.refused.get('f'));
    expect(error.status).toBe(503);
    expect(error.headers['Retry-After']).toBe('7');
    expect(error.errorCode).toBe('busy');
  });

  it("answers 429 with Retry-After beyond one member's share, while other members are still admitted", async () => {
    const gate = new PageGate({ ...LIMITS, perMember: 2 });
    const r = recorder(gate);
    void r.ask('m1', 'm');
    void r.ask('m2', 'm');
    void r.ask('m3', 'm');
    void r.ask('x1', 'x');
    await settle();
    expect(r.admitted).toEqual(['m1', 'm2']);
    const error = asTaxii(r.refused.get('m3'));
    expect(error.status).toBe(429);
    expect(error.headers['Retry-After']).toBe('7');
    expect([...r.refused.keys()]).toEqual(['m3']);
    // the member's share frees up with its releases
    r.permits.get('m1')?.release();
    await settle();
    expect(r.admitted).toEqual(['m1', 'm2', 'x1']);
    void r.ask('m4', 'm');
    r.permits.get('x1')?.release();
    await settle();
    expect(r.admitted).toEqual(['m1', 'm2', 'x1', 'm4']);
  });

  it('answers 503 with Retry-After to a request that waited longer than the queue timeout', async () => {
    const refusals: Refusal[] = [];
    const gate = new PageGate({ ...LIMITS, inFlight: 1, queueTimeoutMs: 20 }, (_member, why) => refusals.push(why));
    const r = recorder(gate);
    await r.ask('a');
    await r.ask('b'); // waits until its timeout: the slot is never released
    const error = asTaxii(r.refused.get('b'));
    expect(error.status).toBe(503);
    expect(error.headers['Retry-After']).toBe('7');
    expect(refusals).toEqual(['queue-timeout']);
    expect(gate.load).toEqual({ inFlight: 1, queued: 0 });
  });

  it('forgets a waiter whose client went away, and gives the slot to the next one', async () => {
    const gate = new PageGate({ ...LIMITS, inFlight: 1, perMember: 1 });
    const r = recorder(gate);
    const gone = new AbortController();
    void r.ask('a');
    void r.ask('b', 'b', gone.signal);
    void r.ask('c');
    await settle();
    gone.abort();
    await settle();
    expect(r.refused.get('b')).toBeInstanceOf(Error);
    expect(r.refused.get('b')).not.toBeInstanceOf(TaxiiError);
    r.permits.get('a')?.release();
    await settle();
    expect(r.admitted).toEqual(['a', 'c']);
    // b's share was given back: b may ask again
    void r.ask('b2', 'b');
    r.permits.get('c')?.release();
    await settle();
    expect(r.admitted).toEqual(['a', 'c', 'b2']);
  });

  it('refuses a request whose client is already gone without queueing it', async () => {
    const gate = new PageGate(LIMITS);
    const gone = new AbortController();
    gone.abort();
    await expect(gate.admit('m', gone.signal)).rejects.toThrow(/went away/);
    expect(gate.load).toEqual({ inFlight: 0, queued: 0 });
  });

  it('counts a permit released twice once', async () => {
    const gate = new PageGate({ ...LIMITS, inFlight: 1 });
    const r = recorder(gate);
    for (const label of ['a', 'b', 'c']) void r.ask(label);
    await settle();
    const a = r.permits.get('a') as Permit;
    a.release();
    a.release();
    await settle();
    // one release admitted one waiter, not two
    expect(r.admitted).toEqual(['a', 'b']);
    expect(gate.load).toEqual({ inFlight: 1, queued: 1 });
  });

  it('with no queue, still admits as many requests at once as there are free slots', async () => {
    const gate = new PageGate({ ...LIMITS, inFlight: 2, queueLength: 0 });
    const r = recorder(gate);
    for (const label of ['a', 'b', 'c']) void r.ask(label);
    await settle();
    expect(r.admitted).toEqual(['a', 'b']);
    expect(asTaxii(r.refused.get('c')).status).toBe(503);
  });
});
