/**
 * What may cross to federation peers, by the TLP ingest resolved from real marking ids: CLEAR,
 * GREEN and AMBER by default; AMBER+STRICT and RED only when configured; unknown markings never;
 * unmarked as the default TLP; tombstones as the version they delete.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EGRESS, egressOf, egressOfTombstone } from '../../src/federation/egress.ts';
import { resolveObjectTlp, TLP1, TLP2, type TlpLevel } from '../../src/stix/markings.ts';

const tlpOf = (...refs: string[]) => resolveObjectTlp(refs);
const CUSTOM = 'marking-definition--0b4b2c4c-5c8e-4c3e-9d0e-3a4c4a1c2e10';

describe('egress to peers by default', () => {
  it.each([
    ['TLP:CLEAR', [TLP2.clear]],
    ['TLP 1.0 WHITE', [TLP1.white]],
    ['TLP:GREEN', [TLP2.green]],
    ['TLP:AMBER', [TLP2.amber]],
    ['TLP 1.0 AMBER', [TLP1.amber]],
  ])('sends %s', (_, refs) => {
    expect(egressOf(tlpOf(...refs), 'amber')).toEqual({ send: true });
  });

  it('keeps AMBER+STRICT on the node, saying why and which setting sends it', () => {
    expect(egressOf(tlpOf(TLP2.amberStrict), 'amber')).toEqual({
      send: false,
      because: 'TLP:AMBER+STRICT: organization only; not sent to peers unless allow_amber_strict is set',
    });
  });

  it('keeps RED on the node, TLP 1.0 and 2.0, and a GREEN object also marked RED', () => {
    for (const refs of [[TLP2.red], [TLP1.red], [TLP2.green, TLP2.red]]) {
      const decision = egressOf(tlpOf(...refs), 'amber');
      expect(decision.send).toBe(false);
      if (!decision.send) expect(decision.because).toMatch(/^TLP:RED: not sent to peers unless allow_red is set$/);
    }
  });

  it('never sends an unknown marking, whatever is allowed', () => {
    const everything = { allowRed: true, allowAmberStrict: true };
    for (const policy of [DEFAULT_EGRESS, everything]) {
      const decision = egressOf(tlpOf(TLP2.green, CUSTOM), 'green', policy);
      expect(decision).toEqual({ send: false, because: `unknown marking ${CUSTOM}: never sent to peers (map it in policy.marking_map)` });
    }
  });

  it.each<[TlpLevel, boolean]>([
    ['clear', true],
    ['green', true],
    ['amber', true],
    ['amber+strict', false],
    ['red', false],
  ])('judges unmarked objects as the default TLP (%s)', (defaultTlp, send) => {
    const decision = egressOf({ kind: 'unmarked' }, defaultTlp);
    expect(decision.send).toBe(send);
    if (!decision.send) expect(decision.because).toContain(`unmarked (policy.default_tlp: ${defaultTlp.toUpperCase()})`);
  });
});

describe('egress when configured', () => {
  it('sends RED with allow_red, and AMBER+STRICT only with allow_amber_strict', () => {
    expect(egressOf(tlpOf(TLP2.red), 'amber', { allowRed: true, allowAmberStrict: false })).toEqual({ send: true });
    expect(egressOf(tlpOf(TLP2.amberStrict), 'amber', { allowRed: true, allowAmberStrict: false }).send).toBe(false);
    expect(egressOf(tlpOf(TLP2.amberStrict), 'amber', { allowRed: false, allowAmberStrict: true })).toEqual({ send: true });
    expect(egressOf(tlpOf(TLP2.red), 'amber', { allowRed: false, allowAmberStrict: true }).send).toBe(false);
  });
});

describe('egress of tombstones', () => {
  it('follows the version they delete, and passes on one for a version the node never held', () => {
    expect(egressOfTombstone(tlpOf(TLP2.red), 'amber').send).toBe(false);
    expect(egressOfTombstone(tlpOf(TLP2.green), 'amber').send).toBe(true);
    expect(egressOfTombstone(undefined, 'amber').send).toBe(true);
  });
});
