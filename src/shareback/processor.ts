/**
 * The share-back processor: works through what members posted to inboxes (submissions the
 * inbox route accepted durably) and through reviewers' verdicts, one transaction each. For a
 * submission it scans every object for personal data, decides what goes out at once and what
 * waits for a reviewer (review.ts), anonymizes and re-issues per consent (plan.ts), and then, in
 * a single write transaction: ingests the members' form into the inbox's redistribute_to
 * mirror (the single ingest path: policy and derivation apply as to any object), queues the
 * hub's form in the outbox, keeps the re-issue mappings, opens review items, moves the TAXII
 * status on and removes the submission. A crash before that commit leaves the submission to be
 * done again; after it, nothing is left to do: nothing is lost or done twice.
 */
import type { Logger } from 'pino';
import type { Ingestor, ObjectSettlement, StoredStatus } from '../ingest/index.ts';
import { settleObjects } from '../ingest/index.ts';
import type { StixObject } from '../stix/types.ts';
import type { ReviewItem, Store, Submission, SubmittedVersion } from '../store/index.ts';
import type { Release, ReissuedLookup } from './anonymize.ts';
import { audiencesOf, planRelease, type ReleasePlan } from './plan.ts';
import { scanObject, type Finding } from './pii/index.ts';
import { reissuedId } from './reissue.ts';
import { approve, reviewDecision } from './review.ts';
import type { InboxRoute, SharerProfile, ShareBackSettings } from './settings.ts';

export interface ProcessorOptions {
  readonly log?: Logger | undefined;
  /** called after objects were queued for the upstream (the forwarder's nudge) */
  readonly onForward?: (() => void) | undefined;
  /** how often the background loop looks for work recorded by another process (a CLI verdict) */
  readonly pollMs?: number | undefined;
}

/** Messages members read in their status resources. */
export const SHAREBACK_MESSAGES = {
  received: 'received: being checked for personal data',
  keptInInbox: 'kept in the inbox: it neither redistributes nor forwards',
  notConfigured: 'the inbox or the member is no longer configured: nothing was shared',
  missing: 'no longer in the inbox: nothing was shared',
  releasedAfterReview: 'released after review',
  rejected: 'rejected by review: it is not shared',
} as const;

type OpenReview = Omit<ReviewItem, 'id' | 'openedAt' | 'state'>;

const DEFAULT_POLL_MS = 1000;
const MAX_BACKOFF_MS = 60_000;

export class ShareBackProcessor {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;
  private failures = 0;
  private readonly pollMs: number;

  constructor(
    private readonly store: Store,
    private readonly ingestor: Ingestor,
    private readonly settings: ShareBackSettings,
    private readonly options: ProcessorOptions = {},
  ) {
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /** Applies every decided review, then handles the oldest submission. Returns the units of work done. */
  step(): number {
    this.store.refresh();
    let done = 0;
    for (const item of this.store.shareback.decidedReviews()) {
      this.applyVerdict(item);
      done++;
    }
    const next = this.store.shareback.nextSubmission();
    if (next) {
      this.process(next);
      done++;
    }
    return done;
  }

  /** Works until nothing is left, or `limit` units. Returns the units done. */
  drain(limit = 100_000): number {
    let total = 0;
    while (total < limit) {
      const done = this.step();
      if (done === 0) break;
      total += done;
    }
    return total;
  }

  /** What is waiting: submissions not yet processed, verdicts not yet applied. */
  backlog(): { submissions: number; verdicts: number } {
    return { submissions: this.store.shareback.submissionCount(), verdicts: this.store.shareback.decidedReviews().length };
  }

  /** Runs in the background: at once when nudged, otherwise every pollMs. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  nudge(): void {
    if (!this.stopped && !this.running && this.failures === 0) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // a step is synchronous: once stopped is set no new one starts
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.loop(), ms);
    this.timer.unref?.();
  }

  private loop(): void {
    this.timer = undefined;
    if (this.stopped) return;
    this.running = true;
    let more = false;
    try {
      // a bounded slice per turn, so HTTP requests are served in between
      more = this.drain(20) >= 20;
      this.failures = 0;
    } catch (error) {
      this.failures++;
      this.options.log?.error({ err: error, attempt: this.failures }, 'share-back processing failed; retrying later');
    } finally {
      this.running = false;
    }
    const wait = this.failures > 0 ? Math.min(MAX_BACKOFF_MS, this.pollMs * 2 ** this.failures) : more ? 0 : this.pollMs;
    this.schedule(wait);
  }

  // ---- submissions

  private process(submission: Submission): void {
    const route = this.settings.inboxes.get(submission.inbox);
    const sharer = this.settings.sharers.get(submission.member);
    if (!route || !sharer) {
      const failed = submission.versions.map((v) => settlement(v, 'failure', SHAREBACK_MESSAGES.notConfigured));
      this.store.transaction(() => this.finish(submission, failed));
      this.options.log?.warn(
        { member: submission.member, inbox: submission.inbox },
        'share-back submission for an inbox or member no longer configured',
      );
      return;
    }
    const settlements: ObjectSettlement[] = [];
    const reviews: OpenReview[] = [];
    const candidates: Array<{ version: SubmittedVersion; object: StixObject; release: Release; review?: OpenReview }> = [];
    const heldIds = new Set<string>();
    const reach = audiencesOf(route);

    for (const version of submission.versions) {
      const object = this.objectAt(submission.inbox, version);
      if (!object) {
        settlements.push(settlement(version, 'failure', SHAREBACK_MESSAGES.missing));
        continue;
      }
      if (reach.length === 0) {
        settlements.push(settlement(version, 'success', SHAREBACK_MESSAGES.keptInInbox));
        continue;
      }
      const findings = scanObject(object);
      const decision = reviewDecision(object, findings, route.reviewMode);
      const base = reviewBase(submission, version);
      if (decision.kind === 'hold') {
        reviews.push({ ...base, decision: 'hold', withheld: [], because: decision.because, findings: findings.map(findingRecord) });
        settlements.push(settlement(version, 'pending', `held for review: ${decision.because}`));
        heldIds.add(object.id);
      } else if (decision.kind === 'release-without') {
        const review: OpenReview = {
          ...base,
          decision: 'release-without',
          withheld: decision.withheld,
          findings: findings.map(findingRecord),
        };
        candidates.push({ version, object, release: decision.release, review });
      } else {
        candidates.push({ version, object, release: { object } });
      }
    }

    const plan = this.plan(
      candidates.map((c) => c.release),
      route,
      sharer,
      submission.member,
      heldIds,
      true,
    );
    candidates.forEach((c, i) => {
      const naming = plan.namingMember.get(i);
      if (naming) {
        const because = `anonymized, it would still name the member in ${naming.join(', ')} (an IOC value the relay never alters)`;
        reviews.push({
          ...(c.review ?? reviewBase(submission, c.version)),
          decision: 'hold',
          withheld: [],
          because,
          findings: c.review?.findings ?? [],
        });
        settlements.push(settlement(c.version, 'pending', `held for review: ${because}`));
        return;
      }
      if (c.review) reviews.push(c.review);
      const dropped = plan.dropped.get(i);
      const message =
        dropped !== undefined
          ? `not sent on: ${dropped}`
          : c.review
            ? `released without ${c.review.withheld.join(', ')}; withheld until a reviewer approves`
            : undefined;
      settlements.push(settlement(c.version, 'success', message));
    });

    this.commit(route, submission.member, plan, () => {
      const sb = this.store.shareback;
      for (const review of reviews) {
        for (const older of sb.openReviewsOf(review.member, review.object.id)) {
          if (older.object.version !== review.object.version)
            sb.settleReview(older.id, 'superseded', `the member sent version ${review.object.version}`);
        }
        sb.openReview(review);
      }
      this.finish(submission, settlements);
      this.store.audit.noteEvent({
        action: 'shareback.submission',
        actor: submission.member,
        subject: submission.statusId,
        detail: {
          objects: submission.versions.length,
          redistributed: plan.redistribute.length,
          forwarded: plan.forward.length,
          reviews: reviews.length,
        },
      });
    });
    this.options.log?.info(
      {
        member: submission.member,
        inbox: submission.inbox,
        status: submission.statusId,
        objects: submission.versions.length,
        redistributed: plan.redistribute.length,
        forwarded: plan.forward.length,
        reviews: reviews.length,
      },
      'share-back submission processed',
    );
  }

  /** The status moved on and the submission gone (inside the caller's transaction). */
  private finish(submission: Submission, settlements: readonly ObjectSettlement[]): void {
    this.settleStatus(submission.statusId, settlements);
    this.store.shareback.removeSubmission(submission.seq);
  }

  private settleStatus(statusId: string, settlements: readonly ObjectSettlement[]): void {
    const stored = this.store.resources.getStatus(statusId) as StoredStatus | undefined;
    if (stored) this.store.resources.putStatus(statusId, settleObjects(stored, settlements));
  }

  // ---- verdicts

  /** The review item settled, and the audit trail told who decided what (inside the caller's transaction). */
  private settle(item: ReviewItem, state: 'approved' | 'rejected' | 'superseded' | 'failed', outcome: string): void {
    this.store.shareback.settleReview(item.id, state, outcome);
    this.store.audit.noteEvent({
      action: `review.${state}`,
      actor: item.verdict?.by ?? 'node',
      subject: item.id,
      detail: { member: item.member, object: item.object.id, version: item.object.version, outcome },
    });
  }

  private applyVerdict(item: ReviewItem): void {
    const verdict = item.verdict;
    const route = this.settings.inboxes.get(item.inbox);
    const sharer = this.settings.sharers.get(item.member);
    const original = this.objectAt(item.inbox, item.object);
    if (!verdict || !route || !sharer || !original) {
      const why = !verdict ? 'no verdict recorded' : !original ? SHAREBACK_MESSAGES.missing : SHAREBACK_MESSAGES.notConfigured;
      this.store.transaction(() => this.settle(item, 'failed', why));
      return;
    }
    const by = `${verdict.by}${verdict.note ? `: ${verdict.note}` : ''}`;
    const onHold = item.decision === 'hold';
    if (verdict.verdict === 'reject') {
      this.store.transaction(() => {
        this.settle(item, 'rejected', `rejected by ${by}`);
        if (onHold) this.settleStatus(item.statusId, [settlement(item.object, 'failure', SHAREBACK_MESSAGES.rejected)]);
      });
      return;
    }
    const latest = this.store.latestOf(item.inbox, original.id);
    const approval = approve({
      original,
      decision: item.decision,
      edited: verdict.edited as StixObject | undefined,
      latestModified: latest?.version,
    });
    if (approval.kind === 'invalid-edit') {
      this.store.transaction(() => this.settle(item, 'failed', approval.reason));
      return;
    }
    if (approval.kind === 'superseded') {
      this.store.transaction(() => {
        this.settle(item, 'superseded', approval.because);
        if (onHold) this.settleStatus(item.statusId, [settlement(item.object, 'failure', `not shared: ${approval.because}`)]);
      });
      return;
    }
    const plan = this.plan([approval.release], route, sharer, item.member, new Set(), false);
    this.commit(route, item.member, plan, () => {
      this.settle(item, 'approved', `approved by ${by}`);
      if (onHold) this.settleStatus(item.statusId, [settlement(item.object, 'success', SHAREBACK_MESSAGES.releasedAfterReview)]);
    });
    this.options.log?.info({ review: item.id, member: item.member, by: verdict.by }, 'share-back review approved and released');
  }

  // ---- shared

  private plan(
    releases: readonly Release[],
    route: InboxRoute,
    sharer: SharerProfile,
    member: string,
    heldIds: ReadonlySet<string>,
    holdNamingMember: boolean,
  ): ReleasePlan {
    const sb = this.store.shareback;
    const { namespaces, relay } = this.settings;
    const creators = releases.map((r) => r.object.created_by_ref).filter((id): id is string => typeof id === 'string' && id !== relay.id);
    const identityIds = [...new Set([...sharer.identityIds, ...sb.identitiesOf(member), ...creators])];
    // a reference to an object of the same submission that waits for review points at the id it
    // will be re-issued under (anonymized, every object of the member's is re-issued)
    const reissued: ReissuedLookup = (id, attribution) =>
      sb.reissuedAs(attribution, id) ??
      (attribution === 'anonymous' && heldIds.has(id) ? reissuedId(namespaces, attribution, id) : undefined);
    return planRelease(releases, { route, sharer, identityIds, relay, namespaces, reissued, holdNamingMember });
  }

  /**
   * One transaction: the members' form ingested into redistribute_to, the hub's form queued,
   * the mappings and identities kept, and the caller's records.
   */
  private commit(route: InboxRoute, member: string, plan: ReleasePlan, records: () => void): void {
    const sb = this.store.shareback;
    const write = () => {
      if (route.forwardTo) {
        for (const object of plan.forward) {
          sb.enqueue(route.forwardTo, { id: object.id, version: object.modified ?? '', json: JSON.stringify(object) }, member);
        }
      }
      for (const m of plan.mappings) sb.putReissue(m.attribution, m.originalId, m.reissuedId);
      sb.rememberIdentities(member, plan.discoveredIdentityIds);
      records();
    };
    if (route.redistributeTo !== undefined && plan.redistribute.length > 0) {
      const report = this.ingestor.ingest(
        route.redistributeTo,
        plan.redistribute,
        { source: 'shareback', detail: member },
        {
          batchSize: Infinity,
          alsoInTransaction: write,
        },
      );
      for (const o of report.outcomes) {
        if (o.kind === 'rejected')
          this.options.log?.error({ member, id: o.id, reason: o.reason }, 'a released share-back object was refused by its mirror');
      }
    } else {
      this.store.transaction(write);
    }
    if (plan.forward.length > 0) this.options.onForward?.();
  }

  private objectAt(inbox: string, version: Pick<SubmittedVersion, 'dateAdded'>): StixObject | undefined {
    const record = this.store.index.get(inbox, version.dateAdded);
    const text = record ? this.store.bodyOf(record) : undefined;
    return text === undefined ? undefined : (JSON.parse(text) as StixObject);
  }
}

function settlement(
  version: Pick<SubmittedVersion, 'id' | 'version'>,
  state: ObjectSettlement['state'],
  message?: string,
): ObjectSettlement {
  return { id: version.id, version: version.version, state, ...(message !== undefined ? { message } : {}) };
}

function findingRecord(f: Finding): { path: string; kind: string; start: number; end: number } {
  return { path: f.path, kind: f.kind, start: f.start, end: f.end };
}

function reviewBase(submission: Submission, version: SubmittedVersion) {
  return {
    member: submission.member,
    apiRoot: submission.apiRoot,
    inbox: submission.inbox,
    statusId: submission.statusId,
    object: version,
  };
}
