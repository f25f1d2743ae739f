/**
 * What one audience receives of an object a member shared. With attribution (the member's
 * consent covers the audience) the object goes out unchanged. Anonymized, the member's traces
 * are replaced: `created_by_ref` and every reference to the member's identity become the
 * relay's identity, the member's name and aliases in text become "[ISAC member]", an external
 * reference that names the member goes, and the member's own identity objects (and
 * relationships or sightings about it) are not sent at all. IOC values (patterns, observables)
 * are never altered; where they still name the member, the result says so (`remaining`).
 *
 * An object the relay changed in any way (anonymized, fields withheld by review, a reviewer's
 * edit, a reference re-pointed at a re-issued object) is re-issued under the relay's identity
 * with a deterministic id (reissue.ts): the member's `created` and `modified`, so its next
 * version becomes the next version of the re-issued object. Pure: no clock, no I/O.
 */
import type { AttributionConsent } from '../policy/types.ts';
import { SCO_TYPES, type StixObject } from '../stix/types.ts';
import { attributionFor, type Attribution, type Audience } from './consent.ts';
import { formatFindingPath, isRecord, removeParts, type Path, type Step } from './parts.ts';
import { reissuedId, type ReissueNamespaces, type RelayIdentity } from './reissue.ts';
import { memberMentions, type MemberMentions } from './scrub.ts';

/** The member whose share is being sent on. */
export interface SharingMember {
  /** its name as it appears in text */
  readonly name: string;
  /** other names it goes by: short names, former names, its domains */
  readonly aliases?: readonly string[] | undefined;
  /** ids of its identity objects: the ones it shares and the ones its `created_by_ref` values name */
  readonly identityIds: readonly string[];
}

/**
 * For an object the member shared (this one or another): the id under which the relay re-issued
 * it for this attribution, or undefined when it did not (or the object is not the member's).
 * The store answers it from the mappings it kept (`ReissueMapping`).
 */
export type ReissuedLookup = (originalId: string, attribution: Attribution) => string | undefined;

export interface AudienceContext {
  readonly member: SharingMember;
  readonly consent: AttributionConsent;
  readonly audience: Audience;
  readonly relay: RelayIdentity;
  readonly namespaces: ReissueNamespaces;
  /** earlier re-issues; asked about references and about the object itself (once re-issued, always) */
  readonly reissued?: ReissuedLookup | undefined;
}

/** An object on its way out: the member's version, possibly reduced or edited by review. */
export interface Release {
  readonly object: StixObject;
  /** review withheld parts of it or a reviewer edited it: a material change, so it is re-issued */
  readonly changedByRelay?: boolean | undefined;
  /** the version to issue it as when re-issued (default: its `modified`); see review.ts */
  readonly modified?: string | undefined;
}

export type Outgoing =
  /** the member's object exactly as received */
  | { readonly kind: 'forward'; readonly object: StixObject; readonly remaining: readonly string[] }
  /** a new object under the relay's identity; the store keeps originalId -> object.id */
  | {
      readonly kind: 'reissue';
      readonly object: StixObject;
      readonly originalId: string;
      readonly attribution: Attribution;
      /** top-level properties whose value differs from the member's version */
      readonly changes: readonly string[];
      /**
       * paths (as the PII scanner writes them) where the member is still named because the value
       * is an IOC the relay must not alter; the pipeline should hold such objects for review
       */
      readonly remaining: readonly string[];
    }
  | { readonly kind: 'drop'; readonly reason: string };

/** A re-issue for the store to keep: the member's object, and the relay's id for it in one attribution. */
export interface ReissueMapping {
  readonly originalId: string;
  readonly reissuedId: string;
  readonly attribution: Attribution;
}

type Json = Record<string, unknown>;

/** The object itself and its versioning: never rewritten (id and creator are set on re-issue). */
const OWN = new Set(['type', 'id', 'spec_version', 'created', 'modified', 'revoked']);
/** What an indicator detects: never altered, even where it names the member. */
const IOC = new Set(['pattern', 'pattern_type', 'pattern_version']);
/** Vocabulary and enumeration values: words of the standard, not prose. */
const VOCABULARY = new Set([
  'relationship_type',
  'identity_class',
  'sectors',
  'opinion',
  'context',
  'primary_motivation',
  'secondary_motivations',
  'personal_motivations',
  'resource_level',
  'sophistication',
  'extension_type',
  'lang',
]);
const isVocabulary = (key: string): boolean => VOCABULARY.has(key) || key.endsWith('_types');
const isRefKey = (key: string): boolean => key.endsWith('_ref') || key.endsWith('_refs');
/** SCOs and custom observables (no `created`): their content is the IOC and their id derives from it. */
const isObservable = (o: Json): boolean => SCO_TYPES.has(String(o.type)) || o.created === undefined;

/** One audience's view of a member's objects; built once per batch. */
class AudienceView {
  readonly attribution: Attribution;
  private readonly anonymous: boolean;
  private readonly mentions: MemberMentions;

  constructor(
    private readonly context: AudienceContext,
    private readonly memberIds: ReadonlySet<string>,
    private readonly lookup: (id: string) => string | undefined,
  ) {
    this.attribution = attributionFor(context.consent, context.audience);
    this.anonymous = this.attribution === 'anonymous';
    const { member, relay } = context;
    if (member.name.trim() === '') throw new TypeError('the sharing member needs a name: anonymization removes it from text');
    this.mentions = memberMentions([member.name, ...(member.aliases ?? [])], [...memberIds], relay.id);
  }

  /** One of the member's identities: a known id, or an organization named like the member. */
  isMemberIdentity(o: Json): boolean {
    if (o.type !== 'identity') return false;
    if (this.memberIds.has(String(o.id))) return true;
    // a class ("the energy sector") or a person is never the member, whatever its name
    const organization = o.identity_class !== 'class' && o.identity_class !== 'individual';
    return organization && typeof o.name === 'string' && this.mentions.isName(o.name);
  }

  /** Why the anonymized audience gets nothing of this object, or null. */
  private dropReason(o: Json): string | null {
    if (!this.anonymous) return null;
    if (this.isMemberIdentity(o)) return "the member's own identity is not sent without its consent";
    if (o.type === 'relationship' && this.memberIds.has(String(o.source_ref))) {
      return "a relationship from the member's identity describes the member";
    }
    if (o.type === 'sighting' && this.memberIds.has(String(o.sighting_of_ref))) return 'a sighting of the member describes the member';
    return null;
  }

  prepare(release: Release): Outgoing {
    const o = release.object as Json;
    const drop = this.dropReason(o);
    if (drop !== null) return { kind: 'drop', reason: drop };
    const observable = isObservable(o);
    if (observable && release.changedByRelay) {
      throw new TypeError(`${String(o.id)}: an observable cannot be re-issued (its id derives from its content); review holds observables`);
    }

    const removals: Path[] = [];
    const rewritten = this.rewrite(o, observable, removals);
    const cleaned = removals.length > 0 ? removeParts(rewritten, removals).object : rewritten;
    const changed = changedProperties(o, cleaned).length > 0;
    const original = release.object;

    if (observable) {
      // only a marking reference can have changed; the observable keeps its id
      const object = changed ? (cleaned as StixObject) : original;
      return { kind: 'forward', object, remaining: this.remaining(object) };
    }
    if (!changed && !release.changedByRelay && this.lookup(original.id) === undefined) {
      return { kind: 'forward', object: original, remaining: this.remaining(original) };
    }

    const { relay, namespaces, member } = this.context;
    const object: Json = { ...cleaned, id: reissuedId(namespaces, this.attribution, original.id), created_by_ref: relay.id };
    if (release.modified !== undefined) object.modified = release.modified;
    if (!this.anonymous) {
      // the relay is the creator now; the consented attribution travels as a reference to the original
      const source = { source_name: member.name, description: `shared by ${member.name} through ${relay.name}`, external_id: original.id };
      object.external_references = [...(Array.isArray(cleaned.external_references) ? cleaned.external_references : []), source];
    }
    const result = object as StixObject;
    return {
      kind: 'reissue',
      object: result,
      originalId: original.id,
      attribution: this.attribution,
      changes: changedProperties(o, object).filter((p) => p !== 'id'),
      remaining: this.remaining(result),
    };
  }

  private ref(value: unknown): unknown {
    if (typeof value !== 'string') return value;
    if (this.anonymous && this.memberIds.has(value)) return this.context.relay.id;
    return this.lookup(value) ?? value;
  }

  /** References re-pointed; in a list, a reference that now repeats an earlier one goes. */
  private refs(value: unknown, at: Step[], removals: Path[]): unknown {
    if (!Array.isArray(value)) return this.ref(value);
    const out = value.map((v) => this.ref(v));
    if (out.some((v, i) => v !== value[i])) {
      const seen = new Set<unknown>();
      out.forEach((v, i) => (seen.has(v) ? removals.push([...at, i]) : seen.add(v)));
    }
    return out;
  }

  /** The object with references re-pointed and, anonymized, the member's traces scrubbed. */
  private rewrite(o: Json, observable: boolean, removals: Path[]): Json {
    const scrub = this.anonymous && !observable;
    const out: Json = {};
    for (const [key, value] of Object.entries(o)) {
      const at = [key];
      if (OWN.has(key)) out[key] = value;
      else if (key === 'granular_markings') out[key] = this.markingRefs(value);
      else if (isRefKey(key)) out[key] = this.refs(value, at, removals);
      else if (observable || IOC.has(key) || (o.type === 'observed-data' && key === 'objects')) out[key] = value;
      else if (scrub && key === 'external_references') out[key] = this.externalReferences(value, removals);
      else if (scrub && this.mentions.mentions(key)) {
        removals.push(at); // `x_acme_case`: the property's very name identifies the member
        out[key] = value;
      } else out[key] = this.walk(value, at, scrub && !isVocabulary(key), removals);
    }
    return out;
  }

  private walk(value: unknown, at: Step[], scrub: boolean, removals: Path[]): unknown {
    if (typeof value === 'string') return scrub ? this.mentions.scrub(value) : value;
    if (Array.isArray(value)) return value.map((v, i) => this.walk(v, [...at, i], scrub, removals));
    if (!isRecord(value)) return value;
    const out: Json = {};
    for (const [key, v] of Object.entries(value)) {
      if (isRefKey(key)) out[key] = this.refs(v, [...at, key], removals);
      else if (scrub && this.mentions.mentions(key)) {
        removals.push([...at, key]);
        out[key] = v;
      } else out[key] = this.walk(v, [...at, key], scrub && !isVocabulary(key), removals);
    }
    return out;
  }

  /**
   * An external reference whose source, URL or external id names the member is the member's own
   * (its ticket, its portal, a news story about it): it goes whole, since a URL with the name
   * cut out would be broken. In the others the description is scrubbed.
   */
  private externalReferences(value: unknown, removals: Path[]): unknown {
    if (!Array.isArray(value)) return value;
    return value.map((ref, i) => {
      if (!isRecord(ref)) return ref;
      const identifying = ['source_name', 'url', 'external_id'].some((f) => typeof ref[f] === 'string' && this.mentions.mentions(ref[f]));
      if (identifying) {
        removals.push(['external_references', i]);
        return ref;
      }
      return typeof ref.description === 'string' ? { ...ref, description: this.mentions.scrub(ref.description) } : ref;
    });
  }

  private markingRefs(value: unknown): unknown {
    if (!Array.isArray(value)) return value;
    return value.map((g) => (isRecord(g) && typeof g.marking_ref === 'string' ? { ...g, marking_ref: this.ref(g.marking_ref) } : g));
  }

  /** Paths where an anonymized object still names the member (IOC values only, by construction). */
  private remaining(object: StixObject): string[] {
    if (!this.anonymous) return [];
    const found: string[] = [];
    const visit = (value: unknown, at: Step[]): void => {
      if (typeof value === 'string') {
        if (this.mentions.mentions(value)) found.push(formatFindingPath(at));
      } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, [...at, i]));
      else if (isRecord(value)) {
        for (const [key, v] of Object.entries(value)) {
          if (this.mentions.mentions(key)) found.push(formatFindingPath([...at, key]));
          else visit(v, [...at, key]);
        }
      }
    };
    visit(object, []);
    return found;
  }
}

/** Top-level properties present in one and not the other, or with different values. */
function changedProperties(before: Json, after: Json): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

/** What this audience receives of one object (for a batch, use batchToAudience). */
export function toAudience(release: Release, context: AudienceContext): Outgoing {
  const attribution = attributionFor(context.consent, context.audience);
  const view = new AudienceView(context, new Set(context.member.identityIds), (id) => context.reissued?.(id, attribution));
  return view.prepare(release);
}

export interface BatchResult {
  /** one per release, in order */
  readonly outgoing: readonly Outgoing[];
  /** the re-issues of this batch (one per original id), for the store to keep */
  readonly mapping: readonly ReissueMapping[];
  /** identity objects of the batch named like the member but not among its configured ids */
  readonly discoveredIdentityIds: readonly string[];
}

/**
 * What this audience receives of a batch the member shared. A reference to another object of
 * the batch follows that object: if it is re-issued, the reference points at the re-issue (a
 * relationship from the member's indicator gets the re-issued indicator's id, and is itself
 * re-issued). References outside the batch are answered by `context.reissued`. Identities of the
 * batch named like the member count as the member's.
 */
export function batchToAudience(releases: readonly Release[], context: AudienceContext): BatchResult {
  const attribution = attributionFor(context.consent, context.audience);
  const probe = new AudienceView(context, new Set(context.member.identityIds), () => undefined);
  const discovered = [
    ...new Set(
      releases
        .map((r) => r.object as Json)
        .filter((o) => probe.isMemberIdentity(o) && !context.member.identityIds.includes(String(o.id)))
        .map((o) => String(o.id)),
    ),
  ];
  const memberIds = new Set([...context.member.identityIds, ...discovered]);

  // Re-issuing one object can re-issue those referring to it; the set only grows, so this
  // settles within (batch size + 1) rounds, usually two.
  let inBatch = new Set<string>();
  let outgoing: Outgoing[] = [];
  for (let round = 0; round <= releases.length; round++) {
    const settled = inBatch;
    const lookup = (id: string): string | undefined =>
      settled.has(id) ? reissuedId(context.namespaces, attribution, id) : context.reissued?.(id, attribution);
    const view = new AudienceView(context, memberIds, lookup);
    outgoing = releases.map((r) => view.prepare(r));
    const next = new Set(outgoing.flatMap((out) => (out.kind === 'reissue' ? [out.originalId] : [])));
    if (next.size === inBatch.size) break;
    inBatch = next;
  }
  const mapping = [...inBatch].map((originalId) => ({
    originalId,
    reissuedId: reissuedId(context.namespaces, attribution, originalId),
    attribution,
  }));
  return { outgoing, mapping, discoveredIdentityIds: discovered };
}
