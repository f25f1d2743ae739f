/**
 * Gossip: every version this node newly stores from its own sources (import, TAXII POST,
 * upstream, share-back) goes to the federation's JetStream stream in envelopes signed with the
 * node's key, and every peer's envelope in the stream comes in through a durable consumer, is
 * verified, and is ingested through the single ingest path with provenance `peer:<origin>`.
 *
 *   subject   relay.<federation>.gossip.<origin node id>
 *   stream    RELAY_GOSSIP_<federation>, subjects relay.<federation>.gossip.>, limits retention
 *   consumer  durable relay-<node id> (pull, explicit ack, from the first message): a node that
 *             was down resumes where it acknowledged last
 *
 * No loops: versions that arrived by gossip (provenance `peer`) are never published again, and a
 * re-delivered version is a duplicate in the store (no new version, no new `date_added`, no
 * `onVersionStored`), so nothing a peer sent comes back out. Envelopes go out with `hops` 0 and
 * receivers refuse more than the verifier's hop limit.
 *
 * De-duplication: an envelope is published with `Nats-Msg-Id` `<origin>:<seq>`, so a publish
 * retried after a lost acknowledgement is stored once, within the stream's duplicate window
 * (`federation.stream.duplicate_window_seconds`, 2 minutes by default). Nothing depends on it:
 * receivers drop a sequence number they have seen (the replay window, kept in the store), and a
 * version they already hold is a duplicate.
 *
 * Egress: a version crosses only when `egressOf` allows it (RED and AMBER+STRICT stay unless
 * configured; unknown markings never); inbox collections (members' raw submissions) never do.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, nanos, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import type { ConsumerMessages, JsMsg } from 'nats';
import type { Logger } from 'pino';
import type { DeletedVersions, StoredVersion, Ingestor } from '../ingest/index.ts';
import type { NodePolicy } from '../policy/index.ts';
import { versionFacts } from '../policy/derive.ts';
import type { Store } from '../store/index.ts';
import type { ObjectTlp } from '../stix/markings.ts';
import { egressOf, type EgressPolicy } from './egress.ts';
import {
  DEFAULT_ENVELOPE_LIMITS,
  EnvelopeVerifier,
  messageId,
  ReplayWindow,
  signEnvelope,
  type GossipEnvelope,
  type GossipTombstone,
  type GossipVersion,
  type RejectionReason,
  type ReplayState,
} from './envelope.ts';
import { batchVersions } from './gossip-batches.ts';
import type { FederationIdentity, PeerTrust } from './identity.ts';
import { retryJetStreamSetUp } from './jetstream-setup.ts';

export interface GossipSettings {
  /** the federation's name: subject prefix and part of the stream name */
  readonly federation: string;
  readonly nodeId: string;
  readonly identity: FederationIdentity;
  readonly trust: PeerTrust;
  readonly egress: EgressPolicy;
  /** collections whose versions are gossiped (mirrors); others' versions stay here */
  readonly collections: ReadonlySet<string>;
  readonly stream: { readonly replicas: number; readonly maxAgeHours: number; readonly duplicateWindowSeconds: number };
  /** versions per envelope (at most the envelope limit of 1,000) */
  readonly maxItems?: number;
}

export interface GossipDeps {
  readonly nc: NatsConnection;
  readonly store: Store;
  readonly ingestor: Ingestor;
  readonly policy: NodePolicy;
  readonly log: Logger;
}

/** Why a version stored here was not published. */
export type WithheldReason = 'red' | 'amber+strict' | 'unknown-marking' | 'too-large' | 'gone';

export interface GossipCounters {
  /** envelopes and versions this node published */
  readonly published: { readonly envelopes: number; readonly versions: number };
  readonly withheld: Readonly<Record<WithheldReason, number>>;
  /** envelopes received, by the verifier's verdict (accepted, or the rejection reason) */
  readonly received: Readonly<Record<RejectionReason | 'accepted', number>>;
  /** what became of the versions in accepted envelopes */
  readonly versions: {
    readonly stored: number;
    readonly duplicate: number;
    readonly rejected: number;
    /** for a collection this node does not hold */
    readonly unknownCollection: number;
  };
  /** operators' deletes: tombstones this node published, and peers' tombstones it kept (new here) and the versions they removed */
  readonly tombstones: { readonly published: number; readonly withheld: number; readonly recorded: number; readonly removed: number };
}

export function streamName(federation: string): string {
  return `RELAY_GOSSIP_${federation}`;
}

export function gossipSubject(federation: string, origin: string): string {
  return `relay.${federation}.gossip.${origin}`;
}

export function consumerName(nodeId: string): string {
  // durable names may not contain "."
  return `relay-${nodeId.replace(/\./g, '_')}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Envelopes published and not yet acknowledged by the stream at once. Acknowledgement from a
 * replicated stream takes tens of milliseconds; waiting for each before the next made every
 * version wait for those of the envelope ahead of it. Receivers take sequence numbers in any
 * order (ReplayWindow), and a tombstone overtaking its version is kept and refuses the version.
 */
const MAX_IN_FLIGHT = 4;

export class Gossip {
  private readonly pending: Array<{ collection: string; dateAdded: number }> = [];
  private readonly pendingTombstones: GossipTombstone[] = [];
  private readonly tombstones = { published: 0, withheld: 0, recorded: 0, removed: 0 };
  private unsubscribeDeletes: (() => void) | undefined;
  /** the highest stream sequence delivered to this node's consumer, to notice messages that left the stream unread */
  private lastStreamSeq = 0;
  private onMissed: (() => void) | undefined;
  private flushing: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private unsubscribe: (() => void) | undefined;
  private messages: ConsumerMessages | undefined;
  private consuming: Promise<void> | undefined;
  private verifier: EnvelopeVerifier;
  /** verdict counts of verifiers replaced after a failed ingest */
  private readonly earlierVerdicts = new Map<string, number>();
  private readonly published = { envelopes: 0, versions: 0 };
  private readonly withheld: Record<WithheldReason, number> = { red: 0, 'amber+strict': 0, 'unknown-marking': 0, 'too-large': 0, gone: 0 };
  private readonly versions = { stored: 0, duplicate: 0, rejected: 0, unknownCollection: 0 };
  private readonly maxItems: number;

  constructor(
    private readonly settings: GossipSettings,
    private readonly deps: GossipDeps,
  ) {
    this.maxItems = Math.min(settings.maxItems ?? 500, DEFAULT_ENVELOPE_LIMITS.maxItems);
    this.verifier = this.newVerifier();
  }

  /** Ensures the stream and this node's consumer, then publishes and consumes until `stop`. */
  async start(): Promise<void> {
    await this.ensureStreamAndConsumer();
    this.running = true;
    this.unsubscribe = this.deps.ingestor.onVersionStored((v) => this.onStored(v));
    this.unsubscribeDeletes = this.deps.ingestor.onVersionsDeleted((d) => this.onDeleted(d));
    const consumer = await this.deps.nc.jetstream().consumers.get(streamName(this.settings.federation), consumerName(this.settings.nodeId));
    this.lastStreamSeq = (await consumer.info()).delivered.stream_seq;
    this.messages = await consumer.consume({ max_messages: 64 });
    this.consuming = this.consume(this.messages);
  }

  /** Stops consuming, publishes what is pending (bounded wait), and stops listening. */
  async stop(flushTimeoutMs = 10_000): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unsubscribeDeletes?.();
    this.unsubscribeDeletes = undefined;
    await this.messages?.close();
    await this.consuming;
    const deadline = Date.now() + flushTimeoutMs;
    while ((this.flushing || this.hasPending() || this.inFlight.size > 0) && Date.now() < deadline) {
      this.scheduleFlush();
      await Promise.race([this.flushing, ...this.inFlight, sleep(100)]);
    }
    this.running = false;
    await this.flushing;
    await Promise.allSettled([...this.inFlight]);
    if (this.hasPending()) {
      this.deps.log.warn(
        { versions: this.pending.length, tombstones: this.pendingTombstones.length },
        'gossip stopped with versions not published: anti-entropy will carry them',
      );
    }
  }

  /** Whether this node's consumer has delivered and settled everything in the stream (its backlog after a restart is read). */
  async backlogRead(): Promise<boolean> {
    const consumer = await this.deps.nc.jetstream().consumers.get(streamName(this.settings.federation), consumerName(this.settings.nodeId));
    const info = await consumer.info();
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }

  /**
   * Called when the consumer skips stream sequence numbers: messages this node never read left
   * the stream (retention), so only anti-entropy can bring what they carried.
   */
  whenMessagesMissed(listener: () => void): void {
    this.onMissed = listener;
  }

  counters(): GossipCounters {
    const received = this.verifier.counters();
    for (const [k, n] of this.earlierVerdicts) received[k as RejectionReason | 'accepted'] += n;
    return {
      published: { ...this.published },
      withheld: { ...this.withheld },
      received,
      versions: { ...this.versions },
      tombstones: { ...this.tombstones },
    };
  }

  private newVerifier(): EnvelopeVerifier {
    const saved = this.deps.store.resources.setting('gossip-replay') as ReplayState | undefined;
    return new EnvelopeVerifier({
      federation: this.settings.federation,
      self: { nodeId: this.settings.nodeId, keyId: this.settings.identity.keyId },
      trust: this.settings.trust,
      replay: new ReplayWindow(4096, saved),
    });
  }

  private async ensureStreamAndConsumer(): Promise<void> {
    const { federation, stream } = this.settings;
    const name = streamName(federation);
    const config = {
      name,
      subjects: [`relay.${federation}.gossip.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: stream.replicas,
      max_age: nanos(stream.maxAgeHours * 3_600_000),
      duplicate_window: nanos(stream.duplicateWindowSeconds * 1000),
    };
    await retryJetStreamSetUp(
      async () => {
        const jsm = await this.deps.nc.jetstreamManager();
        try {
          await jsm.streams.info(name);
        } catch (error) {
          if (!/stream not found/i.test(String((error as Error).message))) throw error;
          await jsm.streams.add(config).catch(async (e: unknown) => {
            // another node created it meanwhile
            if (!/already in use|already exists/i.test(String((e as Error).message))) throw e;
          });
        }
        await jsm.consumers.add(name, {
          durable_name: consumerName(this.settings.nodeId),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: nanos(60_000),
          max_ack_pending: 1000,
        });
      },
      (reason, cause) => new Error(`federation: cannot create the gossip stream ${name} or this node's consumer: ${reason}`, { cause }),
    );
  }

  // ---- publishing ---------------------------------------------------------------------------

  private onStored(v: StoredVersion): void {
    // Versions from peers are never published again: that is what keeps gossip from looping.
    if (v.provenance.source === 'peer' || !this.settings.collections.has(v.collection)) return;
    this.pending.push({ collection: v.collection, dateAdded: v.dateAdded });
    this.scheduleFlush();
  }

  /**
   * An operator's delete here goes out as tombstones (a peer's tombstones applied here are not
   * published again, like its versions). A tombstone crosses only where its version could: the
   * id of a RED object deleted here stays here.
   */
  private onDeleted(d: DeletedVersions): void {
    if (d.origin !== 'local' || !this.settings.collections.has(d.collection)) return;
    for (const t of d.tombstones) {
      if (t.tlp && !egressOf(t.tlp, this.deps.policy.defaultTlp, this.settings.egress).send) {
        this.tombstones.withheld++;
        continue;
      }
      this.pendingTombstones.push({ collection: d.collection, id: t.id, version: t.versionKey });
    }
    this.scheduleFlush();
  }

  private hasPending(): boolean {
    return this.pending.length > 0 || this.pendingTombstones.length > 0;
  }

  private scheduleFlush(): void {
    if (this.flushing || !this.hasPending()) return;
    // after the ingest call that stored these returns: its whole batch goes in as few envelopes as possible
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'gossip: publishing failed'))
      .finally(() => {
        this.flushing = undefined;
        if (this.running && this.hasPending()) this.scheduleFlush();
      });
  }

  private async flush(): Promise<void> {
    const taken = this.pending.splice(0, this.pending.length);
    const versions: GossipVersion[] = [];
    for (const { collection, dateAdded } of taken) {
      const version = this.sendable(collection, dateAdded);
      if (version) versions.push(version);
    }
    const { batches, tooLarge } = batchVersions(versions, { maxItems: this.maxItems, maxBytes: DEFAULT_ENVELOPE_LIMITS.maxBytes });
    for (const v of tooLarge) {
      this.withheld['too-large']++;
      this.deps.log.warn({ id: v.id, version: v.version }, 'gossip: version too large for an envelope, not published');
    }
    for (const batch of batches) await this.launch(batch, []);
    const tombstones = this.pendingTombstones.splice(0, this.pendingTombstones.length);
    for (let at = 0; at < tombstones.length; at += this.maxItems) {
      await this.launch([], tombstones.slice(at, at + this.maxItems));
    }
  }

  /** Starts publishing one envelope once fewer than MAX_IN_FLIGHT are unacknowledged. */
  private async launch(batch: GossipVersion[], tombstones: GossipTombstone[]): Promise<void> {
    while (this.inFlight.size >= MAX_IN_FLIGHT) await Promise.race(this.inFlight);
    const publishing = this.publish(batch, tombstones)
      .then(() => {
        this.tombstones.published += tombstones.length;
      })
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'gossip: publishing failed (anti-entropy will carry it)'))
      .finally(() => this.inFlight.delete(publishing));
    this.inFlight.add(publishing);
  }

  /** The version as gossip (and anti-entropy) sends it, or undefined (counted) when it stays here. */
  sendable(collection: string, dateAdded: number): GossipVersion | undefined {
    const { store, policy } = this.deps;
    const record = store.index.get(collection, dateAdded);
    const json = record ? store.bodyOf(record) : undefined;
    if (!record || json === undefined) {
      this.withheld.gone++;
      return undefined;
    }
    const tlp: ObjectTlp = record.facts?.tlp ?? versionFacts(JSON.parse(json) as never, policy).tlp;
    const decision = egressOf(tlp, policy.defaultTlp, this.settings.egress);
    if (!decision.send) {
      const level = tlp.kind === 'unknown' ? 'unknown-marking' : tlp.kind === 'tlp' ? tlp.level : policy.defaultTlp;
      this.withheld[level === 'red' || level === 'amber+strict' ? level : 'unknown-marking']++;
      return undefined;
    }
    return { collection, id: record.id, version: record.versionKey, json };
  }

  /** Signs one envelope with a new sequence number and publishes it until the stream has it. */
  private async publish(batch: GossipVersion[], tombstones: GossipTombstone[]): Promise<void> {
    const { store, nc, log } = this.deps;
    const { federation, nodeId, identity } = this.settings;
    // The number is taken (and kept) before signing, so it is never used twice, even across a crash.
    const seq = store.transaction(() => {
      const next = (store.resources.setting('gossip-sequence') ?? 0) + 1;
      store.resources.putSetting('gossip-sequence', next);
      return next;
    });
    const envelope: GossipEnvelope = {
      federation,
      origin: nodeId,
      seq,
      hops: 0,
      sentAt: new Date().toISOString(),
      versions: batch,
      tombstones,
    };
    const jws = await signEnvelope(envelope, identity);
    const js = nc.jetstream();
    // The same signed envelope under the same Nats-Msg-Id until the stream acknowledges it: a
    // publish whose acknowledgement was lost is then stored once (within the duplicate window).
    for (let attempt = 0; ; attempt++) {
      try {
        await js.publish(gossipSubject(federation, nodeId), new TextEncoder().encode(jws), { msgID: messageId(envelope) });
        this.published.envelopes++;
        this.published.versions += batch.length;
        return;
      } catch (error) {
        if (!this.running && attempt >= 2) throw error;
        if (attempt % 10 === 0) log.warn({ err: error, seq, attempt }, 'gossip: publish not acknowledged, retrying');
        await sleep(Math.min(100 * 2 ** Math.min(attempt, 6), 5000));
      }
    }
  }

  // ---- receiving ----------------------------------------------------------------------------

  private async consume(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.lastStreamSeq > 0 && m.seq > this.lastStreamSeq + 1) this.onMissed?.();
      this.lastStreamSeq = Math.max(this.lastStreamSeq, m.seq);
      try {
        await this.receive(m);
      } catch (error) {
        // The store failed: the envelope is not acknowledged and comes again. Its sequence
        // number must then pass the replay window again, so the window is reloaded from the
        // state saved with the last envelope ingested.
        this.deps.log.error({ err: error }, 'gossip: an accepted envelope could not be ingested; it will be delivered again');
        for (const [k, n] of Object.entries(this.verifier.counters())) this.earlierVerdicts.set(k, (this.earlierVerdicts.get(k) ?? 0) + n);
        this.verifier = this.newVerifier();
        m.nak(1000);
      }
    }
  }

  /** A peer's deletes: kept as tombstones here, their versions removed (never published again). */
  applyTombstones(tombstones: readonly GossipTombstone[]): void {
    const byCollection = new Map<string, Array<{ id: string; versionKey: string }>>();
    for (const t of tombstones) {
      if (t.collection === undefined || !this.settings.collections.has(t.collection)) {
        this.versions.unknownCollection++;
        continue;
      }
      const list = byCollection.get(t.collection) ?? [];
      list.push({ id: t.id, versionKey: t.version });
      byCollection.set(t.collection, list);
    }
    for (const [collection, list] of byCollection) {
      const { removed, recorded } = this.deps.ingestor.applyTombstones(collection, list);
      this.tombstones.removed += removed;
      this.tombstones.recorded += recorded;
    }
  }

  private async receive(m: JsMsg): Promise<void> {
    const outcome = await this.verifier.verify(m.string());
    if (!outcome.ok) {
      if (outcome.reason !== 'from-self') {
        this.deps.log.warn({ reason: outcome.reason, detail: outcome.detail, streamSeq: m.seq }, 'gossip: envelope rejected');
      }
      // a rejected envelope never becomes acceptable: do not have it delivered again
      m.term();
      return;
    }
    const { envelope } = outcome;
    const provenance = { source: 'peer' as const, detail: envelope.origin };
    const byCollection = new Map<string, unknown[]>();
    for (const v of envelope.versions) {
      const collection = v.collection;
      if (collection === undefined || !this.settings.collections.has(collection)) {
        this.versions.unknownCollection++;
        continue;
      }
      let object: unknown;
      try {
        object = JSON.parse(v.json);
      } catch {
        this.versions.rejected++;
        continue;
      }
      const list = byCollection.get(collection) ?? [];
      list.push(object);
      byCollection.set(collection, list);
    }
    for (const [collection, objects] of byCollection) {
      const report = this.deps.ingestor.ingest(collection, objects, provenance);
      this.versions.stored += report.stored;
      this.versions.duplicate += report.duplicate;
      this.versions.rejected += report.rejected;
      if (report.rejected > 0) {
        const reasons = report.outcomes.flatMap((o) => (o.kind === 'rejected' ? [o.reason] : [])).slice(0, 5);
        this.deps.log.warn(
          { origin: envelope.origin, seq: envelope.seq, rejected: report.rejected, reasons },
          'gossip: versions rejected by ingest',
        );
      }
    }
    this.applyTombstones(envelope.tombstones);
    const { store } = this.deps;
    store.transaction(() => store.resources.putSetting('gossip-replay', this.verifier.replay.state()));
    m.ack();
  }
}
