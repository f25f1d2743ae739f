/**
 * What one member may receive from one collection: the only place the TAXII server applies
 * member policy. Every read endpoint selects through `accept` (via select.ts) and serves bodies
 * through `body`, so objects, manifest, one object and versions agree.
 *
 *   - decide() on the entry's attributes with the member's profile (and a view's filter);
 *   - relationships and sightings only when every object they refer to is visible to the
 *     member in this collection (the referenced object's latest version: decide() and not
 *     withheld by granular markings; referenced relationships are not followed further);
 *   - granular markings: the body is redacted for the member; withheld objects are invisible;
 *   - versions follow the latest: an older version only while the latest version is visible.
 * An object the member may not see does not exist for it: the one-object endpoints answer 404.
 */
import { scanKeys } from '../../policy/filing.ts';
import { decide, redact, type MemberProfile, type NodePolicy, type Redaction } from '../../policy/index.ts';
import type { StixObject } from '../../stix/types.ts';
import type { IndexEntry, Store } from '../../store/index.ts';

export class MemberView {
  /** visibility of referenced objects, by id (per request) */
  private readonly refs = new Map<string, boolean>();
  /** statement marking definitions the node knows (read once per request, when a body is redacted) */
  private statements: ReadonlySet<string> | undefined;
  /** visibility of objects' latest versions, by id (per request) */
  private readonly latest = new Map<string, boolean>();
  /** redactions of granular-marked versions, by date_added (per request) */
  private readonly redactions = new Map<number, Redaction>();

  constructor(
    private readonly store: Store,
    private readonly policy: NodePolicy,
    readonly profile: MemberProfile,
    /** the collection whose index is read (a view's source) */
    readonly indexCollection: string,
    /** a view's filter, as a profile, ANDed with the member's */
    readonly viewFilter?: MemberProfile,
  ) {}

  /**
   * When the member or the view takes only some sectors: the sector-index keys an entry it may
   * receive is filed under (policy/filing.ts), so a page reads those instead of the whole
   * collection. The view's sectors when it has some (then the member's rule still applies per
   * entry).
   */
  filingKeys(): readonly string[] | undefined {
    const p = this.viewFilter && this.viewFilter.sectors.length > 0 ? this.viewFilter : this.profile;
    return p.sectors.length > 0 ? scanKeys(p.sectors, p.unscoped) : undefined;
  }

  /**
   * Whether the member receives this version: its own rules and references, and, for an older
   * version, the same for the object's latest version. A producer's re-marking (GREEN to
   * AMBER+STRICT) withdraws the older versions too: the object then does not exist for the
   * member on any endpoint.
   */
  readonly accept = (entry: IndexEntry): boolean => this.visible(entry) && (entry.isLast || this.latestVisible(entry.id));

  /** The version on its own: its rules, then its references. */
  private visible(entry: IndexEntry): boolean {
    if (!this.allowedItself(entry)) return false;
    const refs = entry.attributes.refs;
    if (refs !== undefined && (entry.type === 'relationship' || entry.type === 'sighting')) {
      for (const ref of refs) if (!this.referenceVisible(ref)) return false;
    }
    return true;
  }

  private latestVisible(id: string): boolean {
    let visible = this.latest.get(id);
    if (visible === undefined) {
      const latest = this.store.latestOf(this.indexCollection, id);
      visible = latest !== undefined && this.visible(latest);
      this.latest.set(id, visible);
    }
    return visible;
  }

  /** The JSON the member receives for an accepted version (redacted when marked granularly). */
  readonly body = (entry: IndexEntry): string | undefined => {
    if (!entry.attributes.granular) return this.store.bodyOf(entry);
    const r = this.redaction(entry);
    if (r === undefined || r.kind === 'withheld') return undefined;
    return r.kind === 'redacted' ? JSON.stringify(r.object) : this.store.bodyOf(entry);
  };

  private allowedItself(entry: IndexEntry): boolean {
    const attributes = entry.attributes;
    if (!decide(this.profile, attributes, this.policy).allow) return false;
    if (this.viewFilter && !decide(this.viewFilter, attributes, this.policy).allow) return false;
    if (attributes.granular) {
      const r = this.redaction(entry);
      if (r === undefined || r.kind === 'withheld') return false;
    }
    return true;
  }

  private referenceVisible(id: string): boolean {
    let visible = this.refs.get(id);
    if (visible === undefined) {
      const latest = this.store.latestOf(this.indexCollection, id);
      visible = latest !== undefined && this.allowedItself(latest);
      this.refs.set(id, visible);
    }
    return visible;
  }

  private redaction(entry: IndexEntry): Redaction | undefined {
    let r = this.redactions.get(entry.dateAdded);
    if (r === undefined) {
      const text = this.store.bodyOf(entry);
      if (text === undefined) return undefined;
      // a view's TLP bound applies to granular markings too: the stricter ceiling wins
      const profile =
        this.viewFilter && stricter(this.viewFilter, this.profile)
          ? { ...this.profile, tlpCeiling: this.viewFilter.tlpCeiling }
          : this.profile;
      this.statements ??= this.store.markings.statements();
      r = redact(JSON.parse(text) as StixObject, profile, this.policy.markingMap, this.statements);
      this.redactions.set(entry.dateAdded, r);
    }
    return r;
  }
}

const RANK = { clear: 0, green: 1, amber: 2 } as const;
const stricter = (a: MemberProfile, b: MemberProfile) => RANK[a.tlpCeiling] < RANK[b.tlpCeiling];
