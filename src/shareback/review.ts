/**
 * Field-level review, the way the national hub does it (issue 11). With `withhold-fields` (the
 * default) an object whose personal-data findings are all in optional properties is released at
 * once without them and waits for a reviewer; after approval (possibly with an edited text) the
 * full object follows as the next version. A finding in a required property, in an observable,
 * or review mode `hold`, holds the whole object. Nothing flagged leaves before approval; what is
 * rejected never leaves. Pure: the pipeline stores review items and feeds the released objects
 * to toAudience(), which re-issues them (a partial copy is not the member's object).
 *
 * What is withheld for a finding at a path:
 * - `external_references[i].description`: that description only (the reference keeps its
 *   source and link); the whole reference when nothing else would be left but its source name;
 * - `objects.K.prop` of observed-data: that property of the embedded observable (removing
 *   `objects` would leave an observed-data with nothing observed), unless it is required;
 * - anything else: the whole top-level property, `labels[2]` the whole `labels`, `x_case.notes[1]`
 *   the whole `x_case`: the rest of a list or structure is the same person's context, and a
 *   custom structure's meaning is unknown to the relay.
 */
import { isDeepStrictEqual } from 'node:util';
import { requiredProperties } from '../stix/required.ts';
import { compareStixTimestamps } from '../stix/time.ts';
import { SCO_TYPES, type StixObject } from '../stix/types.ts';
import { validateObject } from '../stix/validate.ts';
import type { Release } from './anonymize.ts';
import { formatFindingPath, isRecord, parseFindingPath, removeParts, selectorResolves, valueAt, type Path } from './parts.ts';
import { scanObject, type Finding } from './pii/index.ts';
import { laterVersion } from './reissue.ts';

/** `review_mode`: release what is not flagged at once, or hold every flagged object whole. */
export type ReviewMode = 'withhold-fields' | 'hold';

export type ReviewDecision =
  /** no findings: the object goes on as it is */
  | { readonly kind: 'release-whole' }
  /** released now without the `withheld` parts (paths as the scanner writes them); the rest waits for review */
  | { readonly kind: 'release-without'; readonly release: Release; readonly withheld: readonly string[] }
  /** nothing is released before approval */
  | { readonly kind: 'hold'; readonly because: string };

type Unit = { readonly path: Path } | { readonly blocked: string };

/** What must be withheld for one finding, or why the whole object must be held. */
function unitOf(object: StixObject, finding: Finding): Unit {
  const steps = parseFindingPath(finding.path);
  const [top, second, third] = steps;
  if (typeof top !== 'string') return { blocked: `finding at an unexpected path '${finding.path}'` };
  if (top === 'external_references' && typeof second === 'number' && third === 'description' && steps.length === 3) {
    const ref = valueAt(object, [top, second]);
    const linked = isRecord(ref) && (typeof ref.url === 'string' || typeof ref.external_id === 'string');
    return { path: linked ? steps : [top, second] };
  }
  if (object.type === 'observed-data' && top === 'objects' && second !== undefined && typeof third === 'string') {
    const embedded = valueAt(object, [top, second]);
    const type = isRecord(embedded) ? String(embedded.type) : '';
    if (requiredProperties(type).includes(third)) return { blocked: `personal data in '${third}', required in an observed ${type}` };
    return { path: [top, second, third] };
  }
  if (requiredProperties(object.type).includes(top)) return { blocked: `personal data in required property '${top}'` };
  return { path: [top] };
}

/** How an object with these PII findings (from scanObject) is released. */
export function reviewDecision(object: StixObject, findings: readonly Finding[], mode: ReviewMode = 'withhold-fields'): ReviewDecision {
  if (findings.length === 0) return { kind: 'release-whole' };
  if (mode === 'hold') return { kind: 'hold', because: 'review_mode is hold' };
  if (SCO_TYPES.has(object.type) || object.created === undefined || object.modified === undefined) {
    // a copy without some properties would need a new id and a new version, which an
    // observable (id derived from content, no versions) or a marking definition cannot have
    return { kind: 'hold', because: `a ${object.type} cannot be released in part: it has no versions to re-issue` };
  }
  const units = findings.map((f) => unitOf(object, f));
  const blocked = [...new Set(units.flatMap((u) => ('blocked' in u ? [u.blocked] : [])))];
  if (blocked.length > 0) return { kind: 'hold', because: blocked.join('; ') };
  const paths = units.flatMap((u) => ('path' in u ? [u.path] : []));
  const partial = removeParts(object, paths).object;
  const valid = validateObject(partial);
  if (!valid.ok) return { kind: 'hold', because: `without the flagged parts it would not be valid STIX: ${valid.reason}` };
  const withheld = [...new Set(paths.map(formatFindingPath))].sort();
  return { kind: 'release-without', release: { object: partial, changedByRelay: true }, withheld };
}

/** The flagged text of a finding, for a reviewer to read. */
export function flaggedText(object: StixObject, finding: Finding): string | undefined {
  const value = valueAt(object, parseFindingPath(finding.path));
  return typeof value === 'string' ? value.slice(finding.start, finding.end) : undefined;
}

export interface ApprovalInput {
  /** the member's version that was reviewed */
  readonly original: StixObject;
  /** what was done with it meanwhile */
  readonly decision: 'release-without' | 'hold';
  /** the reviewer's edited version of the whole object, if the text was edited */
  readonly edited?: StixObject | undefined;
  /** `modified` of the member's latest version of this object the relay holds */
  readonly latestModified?: string | undefined;
}

export type Approval =
  /** hand `release` to toAudience(); `findings` are what the scanner still sees in it */
  | { readonly kind: 'release'; readonly release: Release; readonly findings: readonly Finding[] }
  /** the member has sent a newer version since: releasing this one would undo it */
  | { readonly kind: 'superseded'; readonly because: string }
  | { readonly kind: 'invalid-edit'; readonly reason: string };

/**
 * A reviewer may edit text, not what the object is, how it is versioned and marked, or what it
 * detects: those stay the member's.
 */
const FROZEN = [
  'type',
  'id',
  'spec_version',
  'created',
  'modified',
  'created_by_ref',
  'revoked',
  'object_marking_refs',
  'granular_markings',
  'pattern',
  'pattern_type',
  'pattern_version',
] as const;

function editProblem(original: StixObject, edited: StixObject): string | null {
  if (SCO_TYPES.has(original.type) || original.created === undefined) {
    return `a ${original.type} cannot be edited: approve it as it is or reject it`;
  }
  const changed = FROZEN.filter((k) => !isDeepStrictEqual(original[k], edited[k]));
  if (changed.length > 0) return `the edit changes ${changed.join(', ')}, which a reviewer may not change`;
  const valid = validateObject(edited);
  if (!valid.ok) return `the edited object is not valid STIX: ${valid.reason}`;
  for (const g of edited.granular_markings ?? []) {
    const lost = g.selectors.find((s) => !selectorResolves(edited, s));
    if (lost !== undefined) return `the edit removes '${lost}', which a granular marking selects`;
  }
  return null;
}

/**
 * The release that follows a reviewer's approval. After `release-without` the full (or edited)
 * object becomes the next version of the re-issued object: its version is one microsecond after
 * the member's (reissue.ts laterVersion), which orders it after the partial copy and before the
 * member's next version, whatever the approval time. After `hold` nothing was released, so the
 * object goes out at the member's version: unchanged if not edited (then it may even be
 * forwarded as the member's own), re-issued if edited.
 */
export function approve(input: ApprovalInput): Approval {
  const { original, decision, latestModified } = input;
  if (latestModified !== undefined && original.modified !== undefined && compareStixTimestamps(original.modified, latestModified) < 0) {
    return { kind: 'superseded', because: `the member's version ${latestModified} is newer than the reviewed ${original.modified}` };
  }
  const edited = input.edited !== undefined && !isDeepStrictEqual(input.edited, original) ? input.edited : undefined;
  if (edited !== undefined) {
    const problem = editProblem(original, edited);
    if (problem !== null) return { kind: 'invalid-edit', reason: problem };
  }
  const object = edited ?? original;
  const partialFirst = decision === 'release-without';
  if (partialFirst && original.modified === undefined)
    throw new TypeError(`${original.id}: an object without versions is never released in part`);
  const release: Release = {
    object,
    changedByRelay: partialFirst || edited !== undefined,
    ...(partialFirst ? { modified: laterVersion(original.modified as string) } : {}),
  };
  return { kind: 'release', release, findings: scanObject(object) };
}
