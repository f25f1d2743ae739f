/** What every route module receives, and the per-request variables set by middleware. */
import type { Logger } from 'pino';
import type { RelayMetrics } from '../../ops/index.ts';
import type { Admin, Member, Principal } from '../../auth/index.ts';
import type { RelayConfig } from '../../config/index.ts';
import type { PeerView } from '../../federation/index.ts';
import type { Ingestor } from '../../ingest/index.ts';
import type { NodePolicy } from '../../policy/index.ts';
import type { Store } from '../../store/index.ts';
import type { Backlog } from '../../derive/index.ts';
import type { SubscriptionStatus } from '../../upstream/index.ts';
import type { PageGate } from './admission.ts';
import type { PageSettings } from './filters.ts';
import type { WorkSlicer } from './slicer.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** who the request comes from (set by the authentication middleware) */
    principal: Principal;
    /** the authenticated member, on TAXII routes (set by principals.ts) */
    member: Member;
    /** the authenticated admin, on /admin/ routes (set by principals.ts) */
    admin: Admin;
  }
}

export interface ServerContext {
  readonly config: RelayConfig;
  readonly store: Store;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  readonly page: PageSettings;
  /** node-wide policy settings (default TLP, marking map) */
  readonly policy: NodePolicy;
  /** HMAC key for `next` tokens */
  readonly secret: Uint8Array;
  /** index entries examined at most for one page of a range scan */
  readonly scanBudget: (limit: number) => number;
  /** objects accepted at most in one Add Objects envelope */
  readonly maxEnvelopeObjects: number;
  /** admission to page work: slots, queue, each member's share (admission.ts) */
  readonly pages: PageGate;
  /** runs page work (selections, pieces) a slice of event-loop time at a time */
  readonly work: WorkSlicer;
  /** a page reader that takes nothing for this long loses its connection */
  readonly pageStallMs: number;
  /** the share-back processor, told at once when an inbox accepted objects or an admin decided a review (else it polls) */
  readonly shareback?: ShareBackNudge | undefined;
  /** Prometheus metrics (pages served) */
  readonly metrics?: RelayMetrics | undefined;
}

/** What the server needs of the share-back processor. */
export interface ShareBackNudge {
  nudge(): void;
}

/** The node's running parts as the admin console reports them (routes/admin-overview.ts). */
export interface NodeOverview {
  /** each upstream subscription as `relay upstreams` prints it (state, lag, last error …) */
  upstreams(): readonly SubscriptionStatus[];
  /** undefined when the node is not federated */
  federation(): FederationOverview | undefined;
  /** work queued in the background */
  backlog(): { readonly reindexer: Backlog; readonly shareback: { readonly submissions: number; readonly verdicts: number } };
}

export interface FederationOverview {
  readonly name: string;
  readonly connection: 'connected' | 'connecting' | 'disconnected';
  /** each configured peer as `relay peers` shows it: state, last seen, versions, last reconciliation */
  readonly peers: readonly PeerView[];
  /** gossip counters (published, withheld, received …), flattened */
  readonly counters: Readonly<Record<string, number>>;
}
