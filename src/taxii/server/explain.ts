/**
 * Policy explain: rule by rule, why a member does or does not receive an object (its latest
 * version) from each collection it may read that holds it, and what would be redacted. Read-only;
 * the same decide(), redact() and MemberView the TAXII server serves with. `relay policy explain`
 * prints it; the admin console's `/admin/explain` answers it as JSON.
 */
import { accessTo } from '../../auth/grants.ts';
import type { Member } from '../../auth/index.ts';
import type { ApiRootConfig, CollectionConfig, RelayConfig } from '../../config/index.ts';
import {
  decide,
  memberProfile,
  nodePolicy,
  redact,
  viewProfile,
  type Decision,
  type MemberProfile,
  type NodePolicy,
} from '../../policy/index.ts';
import type { StixObject } from '../../stix/types.ts';
import type { IndexEntry, Store } from '../../store/index.ts';
import { MemberView } from './policy.ts';

export interface ExplainLine {
  readonly rule: string;
  readonly pass: boolean;
  readonly because: string;
}

export interface Explanation {
  readonly collection: string;
  readonly version?: string;
  readonly allowed: boolean;
  readonly rules: readonly ExplainLine[];
  readonly redacted?: readonly string[];
  readonly attributes?: Record<string, unknown>;
}

export interface ExplainResult {
  readonly member: string;
  readonly object: string;
  /** the collections that hold the object (or the one asked for) */
  readonly collections: readonly Explanation[];
}

/** The member is not configured. */
export class UnknownMemberError extends Error {
  override readonly name = 'UnknownMemberError';
  constructor(
    readonly memberId: string,
    readonly configured: readonly string[],
  ) {
    super(`unknown member "${memberId}"; configured: ${configured.join(', ') || '(none)'}`);
  }
}

/** No collection has this id or alias. */
export class UnknownCollectionError extends Error {
  override readonly name = 'UnknownCollectionError';
  constructor(readonly collection: string | undefined) {
    super(`unknown collection "${collection}"`);
  }
}

/** Explains `object` for `member` in `collection` (id or alias), or in every collection that holds it. */
export function explainObject(
  config: RelayConfig,
  store: Store,
  query: { readonly member: string; readonly object: string; readonly collection?: string | undefined },
): ExplainResult {
  const memberConfig = config.members.find((m) => m.id === query.member);
  if (!memberConfig)
    throw new UnknownMemberError(
      query.member,
      config.members.map((m) => m.id),
    );
  const member = { id: memberConfig.id, config: memberConfig } as Member;
  const targets = config.api_roots.flatMap((root) =>
    root.collections
      .filter((c) => query.collection === undefined || c.id === query.collection || c.alias === query.collection)
      .map((collection) => ({ root, collection })),
  );
  if (targets.length === 0) throw new UnknownCollectionError(query.collection);
  const policy = nodePolicy(config);
  const out: Explanation[] = [];
  for (const { root, collection } of targets) {
    const e = explainOne(store, policy, member, root, collection, query.object);
    // without a collection, only collections that hold the object
    if (e || query.collection !== undefined)
      out.push(
        e ?? {
          collection: label(root, collection),
          allowed: false,
          rules: [{ rule: 'held', pass: false, because: 'the collection does not hold this object' }],
        },
      );
  }
  return { member: member.id, object: query.object, collections: out };
}

const label = (root: ApiRootConfig, c: CollectionConfig) => `${root.path}/${c.alias ?? c.id} (${c.kind})`;

function explainOne(
  store: Store,
  policy: NodePolicy,
  member: Member,
  root: ApiRootConfig,
  collection: CollectionConfig,
  objectId: string,
): Explanation | undefined {
  const source =
    collection.kind === 'view' ? root.collections.find((c) => c.id === collection.source || c.alias === collection.source) : undefined;
  const indexCollection = source?.id ?? collection.id;
  const entry = store.latestOf(indexCollection, objectId);
  if (!entry) return undefined;
  const profile = memberProfile(member.config);
  const filter = collection.kind === 'view' ? viewProfile(collection.id, collection.filter) : undefined;
  const rules: ExplainLine[] = [];
  const access = accessTo(member, root, collection);
  rules.push({
    rule: 'grant',
    pass: access.read,
    because: access.read
      ? 'the member may read this collection'
      : collection.kind === 'inbox'
        ? 'an inbox is write-only'
        : 'the member holds no read grant on this collection',
  });
  const add = (prefix: string, d: Decision) => {
    for (const r of d.rules) rules.push({ rule: `${prefix}${r.rule}`, pass: r.pass, because: r.because });
  };
  add('', decide(profile, entry.attributes, policy));
  if (filter) add('view ', decide(filter, entry.attributes, policy));
  const view = new MemberView(store, policy, profile, indexCollection, filter);
  let redacted: readonly string[] | undefined;
  if (entry.attributes.granular) {
    const body = store.bodyOf(entry);
    const ceiling = filter && rank(filter) < rank(profile) ? { ...profile, tlpCeiling: filter.tlpCeiling } : profile;
    const r =
      body === undefined ? undefined : redact(JSON.parse(body) as StixObject, ceiling, policy.markingMap, store.markings.statements());
    if (r?.kind === 'withheld') rules.push({ rule: 'granular', pass: false, because: `withheld: ${r.because}` });
    else if (r?.kind === 'redacted') {
      redacted = r.removed;
      rules.push({
        rule: 'granular',
        pass: true,
        because: `properties marked above TLP:${ceiling.tlpCeiling.toUpperCase()} are removed: ${r.removed.join(', ')}`,
      });
    } else rules.push({ rule: 'granular', pass: true, because: "no granular marking is above the member's ceiling" });
  }
  for (const ref of entry.attributes.refs ?? []) {
    const target = store.latestOf(indexCollection, ref);
    const visible = target !== undefined && referenceVisible(view, target);
    rules.push({
      rule: 'reference',
      pass: visible,
      because:
        target === undefined
          ? `${ref} is not in the collection`
          : visible
            ? `${ref} is visible to the member`
            : `${ref} is not visible to the member`,
    });
  }
  const allowed = access.read && view.accept(entry);
  return {
    collection: label(root, collection),
    version: entry.version,
    allowed,
    rules,
    ...(redacted && allowed ? { redacted } : {}),
    attributes: attributesOf(entry),
  };
}

/** A referenced object is judged on its own rules (its own references are not followed). */
function referenceVisible(view: MemberView, target: IndexEntry): boolean {
  return view.accept({ ...target, attributes: { ...target.attributes, refs: [] } });
}

const RANKS = { clear: 0, green: 1, amber: 2 } as const;
const rank = (p: MemberProfile) => RANKS[p.tlpCeiling];

function attributesOf(e: IndexEntry): Record<string, unknown> {
  const a = e.attributes;
  return {
    type: a.type,
    tlp: a.tlp.kind === 'tlp' ? a.tlp.level : a.tlp.kind === 'unknown' ? `unknown (${a.tlp.markings.join(', ')})` : 'unmarked',
    sectors: a.sectors,
    confidence: a.confidence ?? null,
    opinion: a.opinion ?? null,
    revoked: a.revoked,
    granular: a.granular,
  };
}
