/**
 * Links between objects of one collection, and what they give each object. Sole owner of:
 *
 *   object-links   [collection, referenced, role, referrer] -> 1  (see LinkRole in stix/attributes.ts)
 *   link-summaries [collection, id]                         -> LinkSummary
 *
 * A summary record exists exactly while something links to the object (`{}` when its links give
 * it nothing), so one read tells whether an object has referrers at all: most objects have none
 * and cost no range read when they are derived.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { LinkKey, LinkRole, LinkSummary } from '../stix/attributes.ts';

type LinkDbKey = [collection: string, referenced: string, role: LinkRole, referrer: string];
type SummaryKey = [collection: string, id: string];

/** sorts after every string in LMDB's ordered-binary key encoding */
const HIGH = '\uffff';

export class LinkIndex {
  private readonly links: Database<1, LinkDbKey>;
  private readonly summaries: Database<LinkSummary, SummaryKey>;

  constructor(root: RootDatabase) {
    this.links = root.openDB<1, LinkDbKey>('object-links', {});
    this.summaries = root.openDB<LinkSummary, SummaryKey>('link-summaries', {});
  }

  /** Adds one link (inside a write transaction); the referenced object gets its summary record. */
  add(collection: string, [referenced, role]: LinkKey, referrer: string): boolean {
    const key: LinkDbKey = [collection, referenced, role, referrer];
    if (this.links.doesExist(key)) return false;
    this.links.putSync(key, 1);
    if (!this.summaries.doesExist([collection, referenced])) this.summaries.putSync([collection, referenced], {});
    return true;
  }

  /**
   * Removes one link. The referenced object's summary record stays until `dropSummaryIfUnlinked`
   * (the re-indexer compares the summary as it was with what the links give now).
   */
  remove(collection: string, [referenced, role]: LinkKey, referrer: string): boolean {
    const key: LinkDbKey = [collection, referenced, role, referrer];
    if (!this.links.doesExist(key)) return false;
    this.links.removeSync(key);
    return true;
  }

  /**
   * Makes a referrer's links equal `after` where they were `before`; returns the links added and
   * removed (the re-indexer marks the summaries they feed).
   */
  relink(
    collection: string,
    referrer: string,
    before: readonly LinkKey[],
    after: readonly LinkKey[],
  ): { added: LinkKey[]; removed: LinkKey[] } {
    const text = ([ref, role]: LinkKey) => `${role} ${ref}`;
    const now = new Set(after.map(text));
    const was = new Set(before.map(text));
    const removed = before.filter((k) => !now.has(text(k)) && this.remove(collection, k, referrer));
    const added = after.filter((k) => !was.has(text(k)) && this.add(collection, k, referrer));
    return { added, removed };
  }

  /** Ids that refer to `referenced` in `role`, in id order, after `after` (exclusive), at most `limit`. */
  referrers(collection: string, referenced: string, role: LinkRole, after = '', limit = Infinity): string[] {
    const out: string[] = [];
    for (const key of this.links.getKeys({ start: [collection, referenced, role, after], end: [collection, referenced, role, HIGH] })) {
      if (key[3] === after) continue;
      if (out.length >= limit) break;
      out.push(key[3]);
    }
    return out;
  }

  /** Whether anything links to the object (its summary record exists). */
  hasReferrers(collection: string, id: string): boolean {
    return this.summaries.doesExist([collection, id]);
  }

  summary(collection: string, id: string): LinkSummary | undefined {
    return this.summaries.get([collection, id]);
  }

  /** Stores a summary; `undefined` keeps an empty record while links remain, none otherwise. */
  putSummary(collection: string, id: string, summary: LinkSummary | undefined): void {
    if (summary !== undefined) this.summaries.putSync([collection, id], summary);
    else if (this.anyLinkTo(collection, id)) this.summaries.putSync([collection, id], {});
    else this.summaries.removeSync([collection, id]);
  }

  /** Drops an empty summary record (`{}`) of an object nothing links to any more; one that still says something is the re-indexer's to recompute. */
  dropEmptySummary(collection: string, id: string): void {
    const summary = this.summaries.get([collection, id]);
    if (summary !== undefined && Object.keys(summary).length === 0) this.dropSummaryIfUnlinked(collection, id);
  }

  /** Drops the summary record of an object nothing links to any more. */
  dropSummaryIfUnlinked(collection: string, id: string): void {
    if (!this.anyLinkTo(collection, id)) this.summaries.removeSync([collection, id]);
  }

  private anyLinkTo(collection: string, id: string): boolean {
    for (const _ of this.links.getKeys({ start: [collection, id], end: [collection, id, HIGH], limit: 1 })) return true;
    return false;
  }

  /** Every link (for checks). */
  *all(): Generator<LinkDbKey> {
    yield* this.links.getKeys({});
  }

  /** Every summary record (for checks). */
  *allSummaries(): Generator<{ collection: string; id: string; summary: LinkSummary }> {
    for (const { key, value } of this.summaries.getRange({})) yield { collection: key[0], id: key[1], summary: value };
  }
}
