/**
 * A deterministic, AIS-like STIX 2.1 corpus for the benchmark, generated as a stream so a
 * million objects never have to sit in memory at once.
 *
 * What it holds (roughly, by share of the stream after a short prelude of marking definitions,
 * the TLP 2.0 extension definition and a hub identity):
 *   - indicators (~55%) with STIX patterns on ipv4 addresses, domain names, URLs and file hashes,
 *     `confidence`, AIS-style labels, kill chain phases, sometimes `valid_until`;
 *   - `indicates` relationships (indicator -> malware, ~20%), 85% of them about one of the last
 *     16 indicators (as a submission bundles an indicator with its relationships), the rest about
 *     an older indicator (linked later); `targets` relationships (malware -> identity, ~7%)
 *     between any known malware and identity;
 *   - malware (~3%) and organization identities with `sectors` from industry-sector-ov (~2%),
 *     1.5% of them also in the rare sector `legal` (a member of it sees about 1% of the stream);
 *   - new versions (~8%) of recent indicators, malware, identities and relationships: same id and
 *     `created`, later `modified`, sometimes a changed confidence, sometimes `revoked`.
 *   - TLP 1.0 and TLP 2.0 `object_marking_refs` (standards.md §3), mostly CLEAR/WHITE and
 *     GREEN, some AMBER, few AMBER+STRICT and RED, a few unmarked objects and a few carrying
 *     both editions.
 * Every object is valid for src/stix/validate.ts; the same seed gives the same stream.
 */
import { Prng } from './prng.ts';

export type CorpusObject = Record<string, unknown> & { type: string; id: string };

import { TLP1, TLP2, TLP_MARKINGS } from '../src/stix/markings.ts';

const TLP2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
const TLP2_EXTENSION_AUTHOR = 'identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01';

type Level = 'clear' | 'green' | 'amber' | 'amber+strict' | 'red';

const LEVELS: readonly (readonly [Level, number])[] = [
  ['clear', 30],
  ['green', 45],
  ['amber', 17],
  ['amber+strict', 5],
  ['red', 3],
];

/** shared (never mutated) marking lists per level: TLP 1.0 only, TLP 2.0 only, both */
const MARKINGS: Record<Level, { v1: readonly string[]; v2: readonly string[]; both: readonly string[] }> = {
  clear: { v1: [TLP1.white], v2: [TLP2.clear], both: [TLP1.white, TLP2.clear] },
  green: { v1: [TLP1.green], v2: [TLP2.green], both: [TLP1.green, TLP2.green] },
  amber: { v1: [TLP1.amber], v2: [TLP2.amber], both: [TLP1.amber, TLP2.amber] },
  // no TLP 1.0 equivalent: sent alone, or with 1.0 AMBER for consumers that only know 1.0
  'amber+strict': { v1: [TLP2.amberStrict], v2: [TLP2.amberStrict], both: [TLP2.amberStrict, TLP1.amber] },
  red: { v1: [TLP1.red], v2: [TLP2.red], both: [TLP1.red, TLP2.red] },
};
const MARKING_NAMES = new Map<readonly string[], string>();
for (const lists of Object.values(MARKINGS)) {
  for (const list of [lists.v1, lists.v2, lists.both]) MARKING_NAMES.set(list, list.map(markingName).join('+'));
}

const SECTOR_COUNTS: readonly (readonly [number, number])[] = [
  [1, 70],
  [2, 22],
  [3, 8],
];

/**
 * A sector few identities carry (added to industry-sector-ov by STIX 2.1 Errata 01), so that a
 * member of it sees about 1% of the collection once derivation has spread it along targets and
 * indicates links: the sparse view the serving benchmark pages through.
 */
export const RARE_SECTOR = 'legal';
const RARE_SECTOR_IDENTITY_SHARE = 0.015;

const SECTORS = [
  'agriculture',
  'aerospace',
  'automotive',
  'chemical',
  'commercial',
  'communications',
  'construction',
  'defense',
  'education',
  'energy',
  'entertainment',
  'financial-services',
  'government',
  'government-national',
  'government-regional',
  'government-local',
  'healthcare',
  'hospitality-leisure',
  'infrastructure',
  'dams',
  'nuclear',
  'water',
  'insurance',
  'manufacturing',
  'mining',
  'non-profit',
  'pharmaceuticals',
  'retail',
  'technology',
  'telecommunications',
  'transportation',
  'utilities',
] as const;

const MALWARE_TYPES = [
  'backdoor',
  'bot',
  'downloader',
  'dropper',
  'keylogger',
  'ransomware',
  'remote-access-trojan',
  'spyware',
  'trojan',
  'worm',
];
const MALWARE_NAMES = [
  'Emotet',
  'TrickBot',
  'QakBot',
  'IcedID',
  'Cobalt Strike',
  'AgentTesla',
  'Formbook',
  'Remcos',
  'LockBit',
  'BlackCat',
  'Royal',
  'SmokeLoader',
  'RedLine',
  'Raccoon',
  'Ursnif',
  'DarkGate',
];
const PHASES = [
  'reconnaissance',
  'weaponization',
  'delivery',
  'exploitation',
  'installation',
  'command-and-control',
  'actions-on-objectives',
];
const INDICATOR_TYPES: readonly string[] = ['malicious-activity'];
const AIS_LABELS: readonly string[] = ['cisa-proprietary-false'];
const KILL_CHAIN: Record<string, readonly unknown[]> = Object.fromEntries(
  PHASES.map((phase) => [phase, [{ kill_chain_name: 'lockheed-martin-cyber-kill-chain', phase_name: phase }]]),
);
const TLDS = ['com', 'net', 'org', 'info', 'biz', 'ru', 'cn', 'top', 'xyz', 'io'];
const CONSENT = ['ais-consent-everyone', 'ais-consent-usg', 'ais-consent-none', 'ais-consent-everyone-cisa-proprietary'];
const CONFIDENCES = [15, 50, 85, 100];

/** 2024-03-01T00:00:00Z */
const START_MS = Date.UTC(2024, 2, 1);
const PRELUDE_SIZE = 11;
const RING = 4096;
/** `indicates` relationships whose indicator is one of the last RECENT_INDICATORS indicators */
const RECENT_LINK_SHARE = 0.85;
const RECENT_INDICATORS = 16;

export interface CorpusStats {
  objects: number;
  /** object versions that are a later version of an id already emitted */
  laterVersions: number;
  /** distinct ids emitted (objects - laterVersions) */
  distinctIds: number;
  byType: Record<string, number>;
  byMarking: Record<string, number>;
  revoked: number;
}

const ts = (ms: number) => new Date(ms).toISOString();

export class CorpusGenerator {
  private readonly rng: Prng;
  private clock = START_MS;
  private emitted = 0;
  private readonly identities: string[] = [];
  private readonly malware: string[] = [];
  private readonly indicators: string[] = [];
  /** the most recent indicators, oldest first (a submission links what it just described) */
  private readonly recentIndicators: string[] = [];
  /** recent versionable objects (latest version of each) */
  private readonly ring: (CorpusObject | undefined)[] = new Array(RING);
  private ringNext = 0;
  private hub = '';
  readonly stats: CorpusStats = { objects: 0, laterVersions: 0, distinctIds: 0, byType: {}, byMarking: {}, revoked: 0 };

  constructor(readonly seed: number) {
    this.rng = new Prng(seed);
  }

  /** The next object of the stream. */
  next(): CorpusObject {
    const o = this.emitted < PRELUDE_SIZE ? this.prelude(this.emitted) : this.body();
    this.emitted++;
    this.count(o);
    return o;
  }

  /** The next `n` objects. */
  take(n: number): CorpusObject[] {
    const out: CorpusObject[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  private count(o: CorpusObject): void {
    const s = this.stats;
    s.objects++;
    s.distinctIds = s.objects - s.laterVersions;
    s.byType[o.type] = (s.byType[o.type] ?? 0) + 1;
    const refs = o.object_marking_refs as readonly string[] | undefined;
    const key = refs === undefined ? 'unmarked' : (MARKING_NAMES.get(refs) ?? refs.map(markingName).join('+'));
    s.byMarking[key] = (s.byMarking[key] ?? 0) + 1;
    if (o.revoked === true) s.revoked++;
  }

  private tick(): number {
    this.clock += this.rng.int(1, 1500);
    return this.clock;
  }

  private prelude(i: number): CorpusObject {
    const tlp1 = Object.entries(TLP1);
    const tlp2 = Object.entries(TLP2);
    if (i < tlp1.length) {
      const [level, id] = tlp1[i] as [string, string];
      return {
        type: 'marking-definition',
        spec_version: '2.1',
        id,
        created: '2017-01-20T00:00:00.000Z',
        definition_type: 'tlp',
        name: `TLP:${level.toUpperCase()}`,
        definition: { tlp: level },
      };
    }
    if (i === tlp1.length) {
      return {
        type: 'extension-definition',
        spec_version: '2.1',
        id: TLP2_EXTENSION,
        created_by_ref: TLP2_EXTENSION_AUTHOR,
        created: '2022-10-01T00:00:00.000Z',
        modified: '2022-10-01T00:00:00.000Z',
        name: 'TLP 2.0',
        description: 'Traffic Light Protocol 2.0 marking definitions',
        schema: 'https://github.com/oasis-open/cti-stix-common-objects/tree/master/extension-definition-specifications/tlp-2.0',
        version: '1.0.0',
        extension_types: ['property-extension'],
      };
    }
    const j = i - tlp1.length - 1;
    if (j < tlp2.length) {
      const id = (tlp2[j] as [string, string])[1];
      const level = TLP_MARKINGS.get(id) as string; // 'amber+strict', as the extension spells it
      return {
        type: 'marking-definition',
        spec_version: '2.1',
        id,
        created: '2022-10-01T00:00:00.000Z',
        name: `TLP:${level.toUpperCase()}`,
        extensions: { [TLP2_EXTENSION]: { extension_type: 'property-extension', tlp_2_0: level } },
      };
    }
    // the hub that re-publishes submissions (AIS anonymizes submitters to its own identity)
    const at = ts(this.tick());
    this.hub = `identity--${this.rng.uuid()}`;
    this.identities.push(this.hub);
    return {
      type: 'identity',
      spec_version: '2.1',
      id: this.hub,
      created: at,
      modified: at,
      name: 'Sharing Hub',
      identity_class: 'organization',
      sectors: ['government-national'],
      object_marking_refs: [TLP2.clear],
    };
  }

  private body(): CorpusObject {
    const r = this.rng.next();
    if (r < 0.08) {
      const revised = this.revise();
      if (revised) return revised;
    }
    if (r < 0.1 || this.identities.length < 8) return this.identity();
    if (r < 0.13 || this.malware.length < 8) return this.malwareObject();
    if (r < 0.2) return this.relationship('targets', this.rng.pick(this.malware), this.rng.pick(this.identities));
    if (r < 0.4 && this.indicators.length > 0) {
      // mostly an indicator of the same submission (a few objects back), sometimes an older one
      // linked later by an analyst
      const source = this.rng.next() < RECENT_LINK_SHARE ? this.rng.pick(this.recentIndicators) : this.rng.pick(this.indicators);
      return this.relationship('indicates', source, this.rng.pick(this.malware));
    }
    return this.indicator();
  }

  private remember(o: CorpusObject, pool: string[] | null, poolMax: number): CorpusObject {
    if (pool) {
      if (pool.length < poolMax) pool.push(o.id);
      else pool[this.rng.int(0, poolMax - 1)] = o.id;
    }
    this.ring[this.ringNext] = o;
    this.ringNext = (this.ringNext + 1) % RING;
    return o;
  }

  private markings(): readonly string[] | undefined {
    const rng = this.rng;
    const u = rng.next();
    if (u < 0.04) return undefined;
    const level = rng.weighted(LEVELS);
    const m = MARKINGS[level];
    if (level === 'amber+strict') return u < 0.1 ? m.both : m.v2;
    if (u < 0.06) return m.both;
    return u < 0.5 ? m.v1 : m.v2;
  }

  private createdBy(): string {
    return this.rng.next() < 0.7 ? this.hub : this.rng.pick(this.identities);
  }

  private identity(): CorpusObject {
    const rng = this.rng;
    const at = ts(this.tick());
    const sectors = new Set<string>();
    const n = rng.weighted(SECTOR_COUNTS);
    while (sectors.size < n) sectors.add(rng.pick(SECTORS));
    if (rng.next() < RARE_SECTOR_IDENTITY_SHARE) sectors.add(RARE_SECTOR);
    const o = {
      type: 'identity',
      spec_version: '2.1',
      id: `identity--${rng.uuid()}`,
      created: at,
      modified: at,
      name: `Member Organization ${rng.int(1, 99999)}`,
      identity_class: 'organization',
      sectors: [...sectors],
      contact_information: rng.next() < 0.5 ? `soc@org${rng.int(1, 99999)}.example` : undefined,
      labels: [rng.pick(CONSENT)],
      object_marking_refs: this.markings(),
    };
    return this.remember(o, this.identities, 2000);
  }

  private malwareObject(): CorpusObject {
    const rng = this.rng;
    const at = ts(this.tick());
    const name = `${rng.pick(MALWARE_NAMES)} ${rng.int(1, 400)}`;
    const o = {
      type: 'malware',
      spec_version: '2.1',
      id: `malware--${rng.uuid()}`,
      created_by_ref: this.createdBy(),
      created: at,
      modified: at,
      name,
      description: `${name} family, tracked by the sharing community.`,
      malware_types: [rng.pick(MALWARE_TYPES)],
      is_family: true,
      confidence: rng.pick(CONFIDENCES),
      object_marking_refs: this.markings(),
    };
    return this.remember(o, this.malware, 5000);
  }

  private pattern(): { name: string; pattern: string } {
    const rng = this.rng;
    const kind = rng.weighted([
      ['ipv4', 35],
      ['domain', 25],
      ['url', 10],
      ['sha256', 18],
      ['md5', 7],
      ['file', 5],
    ] as const);
    switch (kind) {
      case 'ipv4': {
        const ip = `${rng.int(1, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
        return { name: `Malicious IP ${ip}`, pattern: `[ipv4-addr:value = '${ip}']` };
      }
      case 'domain': {
        const d = `${rng.hex(rng.int(6, 14))}.${rng.pick(TLDS)}`;
        return { name: `Malicious domain ${d}`, pattern: `[domain-name:value = '${d}']` };
      }
      case 'url': {
        const u = `http://${rng.hex(10)}.${rng.pick(TLDS)}/${rng.hex(8)}/${rng.hex(6)}.php`;
        return { name: 'Malicious URL', pattern: `[url:value = '${u}']` };
      }
      case 'sha256': {
        const h = rng.hex(64);
        return { name: `Malicious file ${h.slice(0, 12)}`, pattern: `[file:hashes.'SHA-256' = '${h}']` };
      }
      case 'md5': {
        const h = rng.hex(32);
        return { name: `Malicious file ${h.slice(0, 12)}`, pattern: `[file:hashes.MD5 = '${h}']` };
      }
      case 'file': {
        const h = rng.hex(64);
        return {
          name: `Malicious file ${h.slice(0, 12)}`,
          pattern: `[file:hashes.'SHA-256' = '${h}' AND file:name = '${rng.hex(8)}.exe']`,
        };
      }
    }
  }

  private indicator(): CorpusObject {
    const rng = this.rng;
    const at = ts(this.tick());
    const { name, pattern } = this.pattern();
    const phase = rng.pick(PHASES);
    const o: Record<string, unknown> = {
      type: 'indicator',
      spec_version: '2.1',
      id: `indicator--${rng.uuid()}`,
      created_by_ref: this.createdBy(),
      created: at,
      modified: at,
      name,
      description: `Observed in activity reported by a sharing member (${phase}).`,
      indicator_types: INDICATOR_TYPES,
      pattern,
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: at,
      valid_until: undefined,
      kill_chain_phases: KILL_CHAIN[phase],
      confidence: rng.next() < 0.8 ? rng.pick(CONFIDENCES) : rng.int(0, 100),
      labels: AIS_LABELS,
      object_marking_refs: this.markings(),
    };
    // undefined members are left out by JSON.stringify and by validation alike
    if (rng.next() < 0.3) o.valid_until = ts(Date.parse(at) + rng.int(7, 180) * 86_400_000);
    this.recentIndicators.push(o.id as string);
    if (this.recentIndicators.length > RECENT_INDICATORS) this.recentIndicators.shift();
    return this.remember(o as CorpusObject, this.indicators, 20_000);
  }

  private relationship(kind: 'indicates' | 'targets', source: string, target: string): CorpusObject {
    const rng = this.rng;
    const at = ts(this.tick());
    const o = {
      type: 'relationship',
      spec_version: '2.1',
      id: `relationship--${rng.uuid()}`,
      created_by_ref: this.createdBy(),
      created: at,
      modified: at,
      relationship_type: kind,
      source_ref: source,
      target_ref: target,
      confidence: rng.next() < 0.5 ? rng.pick(CONFIDENCES) : undefined,
      object_marking_refs: this.markings(),
    };
    return this.remember(o, null, 0);
  }

  /** A later version of a recent object, or null when the picked slot is empty/revoked. */
  private revise(): CorpusObject | null {
    const rng = this.rng;
    const slot = rng.int(0, RING - 1);
    const old = this.ring[slot];
    if (!old) return null;
    const modifiedMs = Math.max(this.tick(), Date.parse(old.modified as string) + 1);
    const o: CorpusObject = { ...old, modified: ts(modifiedMs) };
    if (typeof o.confidence === 'number') o.confidence = rng.pick(CONFIDENCES);
    if (o.type === 'indicator' && rng.next() < 0.05) {
      o.revoked = true;
      this.ring[slot] = undefined;
    } else {
      this.ring[slot] = o;
    }
    this.stats.laterVersions++;
    return o;
  }
}

function markingName(id: string): string {
  for (const [level, ref] of Object.entries(TLP1)) if (ref === id) return `tlp1:${level}`;
  for (const ref of Object.values(TLP2)) if (ref === id) return `tlp2:${TLP_MARKINGS.get(ref)}`;
  return 'other';
}

/**
 * Bundle texts as files an operator would import: `files` JSON strings of `perFile` objects
 * each (the last one shorter), from one generator.
 */
export function bundleTexts(gen: CorpusGenerator, total: number, perFile: number): string[] {
  const texts: string[] = [];
  for (let done = 0; done < total; done += perFile) {
    const n = Math.min(perFile, total - done);
    const parts: string[] = new Array(n);
    for (let i = 0; i < n; i++) parts[i] = JSON.stringify(gen.next());
    texts.push(`{"type":"bundle","id":"bundle--${bundleUuid(gen.seed, texts.length)}","objects":[${parts.join(',')}]}`);
  }
  return texts;
}

function bundleUuid(seed: number, index: number): string {
  return new Prng(seed ^ (index * 2654435761)).uuid();
}
