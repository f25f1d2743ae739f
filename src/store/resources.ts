/**
 * The node's own records: TAXII status resources, upstream subscription state, quarantined
 * input and settings. Sole owner of:
 *
 *   status      status id                 -> TAXII status resource (with its API root and member)
 *   upstream    'cursor:<sub>' | 'status:<sub>' -> a subscription's cursor (written with its page) and state
 *   quarantine  µs (unique, increasing)   -> QuarantineRecord without its id
 *   settings    name                      -> the node secret, the store's layout and mode, fingerprints
 */
import { randomBytes } from 'node:crypto';
import type { Database, RootDatabase } from 'lmdb';
import { nowMicros, type Micros } from '../stix/time.ts';
import type { QuarantineRecord } from './types.ts';

/** The named settings the store keeps, and their types. */
export interface Settings {
  /** random per-node secret for HMAC-bound paging tokens */
  'node-secret': Uint8Array;
  /** the storage layout version (see migrations.ts) */
  layout: number;
  /** 'none' in a store created without policy attributes */
  'policy-attributes': 'none' | 'kept';
  /** fingerprint of what derivation reads from the configuration (derive/jobs.ts) */
  'derivation-fingerprint': string;
  /** per member: a fingerprint of what it reads, and that (derive/jobs.ts) */
  'member-profiles': Record<string, { fingerprint: string; snapshot: unknown }>;
  /** work over whole collections the re-indexer does a chunk at a time (derive/jobs.ts) */
  'derivation-jobs': readonly unknown[];
  /** the sequence number of the last gossip envelope this node signed (federation/gossip.ts): never reused */
  'gossip-sequence': number;
  /** which peers' envelope sequence numbers this node has accepted (federation/envelope.ts ReplayState) */
  'gossip-replay': unknown;
  /** the latest heartbeat of each peer and when it arrived (federation/membership.ts), for `relay peers` */
  'federation-peers': Record<string, { heartbeat: unknown; receivedAt: string }>;
  /** the previous layout's mark of a built reconciliation set (tombstones only there); removed when they are moved (store/federation-items.ts) */
  'recon-items': 1;
  /** the fingerprint of the rule the reconciliation set was built by, or 'none', 'building', 'stale' (store/federation-items.ts) */
  'recon-rule': string;
  /** per peer node id: the last reconciliation with it (federation/anti-entropy.ts PeerReconciliation) */
  'recon-peers': Record<string, unknown>;
}

type SettingName = keyof Settings;

export class NodeResources {
  private readonly statuses: Database<unknown, string>;
  private readonly upstream: Database<unknown, string>;
  private readonly quarantine: Database<Omit<QuarantineRecord, 'id'>, Micros>;
  private readonly settings: Database<Settings[SettingName], SettingName>;
  private lastQuarantined: Micros | undefined;

  constructor(root: RootDatabase) {
    this.statuses = root.openDB<unknown, string>('status', {});
    this.upstream = root.openDB<unknown, string>('upstream', {});
    this.quarantine = root.openDB<Omit<QuarantineRecord, 'id'>, Micros>('quarantine', {});
    this.settings = root.openDB<Settings[SettingName], SettingName>('settings', {});
  }

  setting<K extends SettingName>(name: K): Settings[K] | undefined {
    return this.settings.get(name) as Settings[K] | undefined;
  }

  putSetting<K extends SettingName>(name: K, value: Settings[K]): void {
    this.settings.putSync(name, value);
  }

  removeSetting(name: SettingName): void {
    this.settings.removeSync(name);
  }

  /** A random per-node secret (for HMAC-bound paging tokens), created on first use. */
  nodeSecret(): Buffer {
    const existing = this.setting('node-secret');
    if (existing) return Buffer.from(existing);
    const secret = randomBytes(32);
    this.putSetting('node-secret', secret);
    return secret;
  }

  putStatus(id: string, status: unknown): void {
    this.statuses.putSync(id, status);
  }

  getStatus(id: string): unknown {
    return this.statuses.get(id);
  }

  /** An upstream record (a subscription's cursor or status), or undefined. */
  getUpstream<T>(key: string): T | undefined {
    return this.upstream.get(key) as T | undefined;
  }

  /**
   * Writes an upstream record. Called inside a commit's `alsoInTransaction`, it commits with that
   * batch (how a cursor advances atomically with the page it covers).
   */
  putUpstream(key: string, value: unknown): void {
    this.upstream.putSync(key, value);
  }

  /** Records quarantined input and returns its id; inside a transaction it joins it. */
  addQuarantine(record: Omit<QuarantineRecord, 'id' | 'at'>): string {
    if (this.lastQuarantined === undefined) {
      this.lastQuarantined = 0;
      for (const key of this.quarantine.getKeys({ reverse: true, limit: 1 })) this.lastQuarantined = key;
    }
    const now = nowMicros();
    const at = now > this.lastQuarantined ? now : this.lastQuarantined + 1;
    this.lastQuarantined = at;
    this.quarantine.putSync(at, { ...record, at });
    return String(at);
  }

  /** Quarantine records, newest first. */
  listQuarantine(options: { limit?: number; detail?: string } = {}): QuarantineRecord[] {
    const out: QuarantineRecord[] = [];
    const limit = options.limit ?? 100;
    for (const { key, value } of this.quarantine.getRange({ reverse: true })) {
      if (out.length >= limit) break;
      if (options.detail !== undefined && value.detail !== options.detail) continue;
      out.push({ ...value, id: String(key) });
    }
    return out;
  }

  getQuarantine(id: string): QuarantineRecord | undefined {
    if (!/^\d+$/.test(id)) return undefined;
    const value = this.quarantine.get(Number(id));
    return value ? { ...value, id } : undefined;
  }

  quarantineCount(): number {
    return this.quarantine.getCount();
  }
}
