/**
 * One upstream server: its TAXII client (one keep-alive pool, its TLS and credentials) and the
 * API root and collections it resolved, cached until a 404 says they moved.
 */
import {
  TaxiiClient,
  TaxiiProtocolError,
  findCollection,
  resolveApiRoot,
  type ClientOptions,
  type RemoteCollection,
} from '../taxii/client/index.ts';

export class UpstreamConnection {
  private taxii: TaxiiClient | undefined;
  private closed = false;
  private resolved: { apiRootUrl: string; maxContentLength: number; collections: RemoteCollection[] } | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly apiRootHint: string | undefined,
    /** builds the client options; may throw UpstreamConfigError (missing secret, unreadable file) */
    private readonly options: () => ClientOptions,
  ) {}

  client(): TaxiiClient {
    if (this.closed) throw new Error(`upstream "${this.name}" is closed`);
    this.taxii ??= new TaxiiClient(this.options());
    return this.taxii;
  }

  invalidate(): void {
    this.resolved = undefined;
  }

  /**
   * The API root and collection `remote` names, checked for what we need of it: `read` to poll,
   * `write` to forward share-back (a collection listed without it is a clear error, not a 403
   * on every request).
   */
  async resolveCollection(
    remote: string,
    need: 'read' | 'write' = 'read',
  ): Promise<{ apiRootUrl: string; collectionId: string; maxContentLength: number }> {
    const client = this.client();
    if (!this.resolved || !findCollection(this.resolved.collections, remote)) {
      const root = await resolveApiRoot(client, this.url, this.apiRootHint);
      this.resolved = {
        apiRootUrl: root.url,
        maxContentLength: root.apiRoot.max_content_length,
        collections: await client.collections(root.url),
      };
    }
    const found = findCollection(this.resolved.collections, remote);
    if (!found) {
      const known = this.resolved.collections.map((c) => (c.alias ? `${c.title} (${c.alias})` : `${c.title} (${c.id})`));
      throw new TaxiiProtocolError(
        'resource',
        `collection "${remote}" is not offered to us (offered: ${known.join(', ') || 'none'})`,
        this.resolved.apiRootUrl,
      );
    }
    // reading is refused only when the server says so; writing needs its explicit yes
    const allowed = need === 'read' ? found.can_read : found.can_write;
    if (need === 'read' ? allowed === false : allowed !== true) {
      throw new TaxiiProtocolError(
        'resource',
        `collection "${remote}" is listed but can_${need} is ${String(allowed)} for our credentials`,
        this.resolved.apiRootUrl,
      );
    }
    return { apiRootUrl: this.resolved.apiRootUrl, collectionId: found.id, maxContentLength: this.resolved.maxContentLength };
  }

  /** Aborts requests in flight (so a hung upstream cannot delay shutdown) and closes the pool. */
  async close(): Promise<void> {
    this.closed = true;
    const taxii = this.taxii;
    this.taxii = undefined;
    await taxii?.destroy();
  }
}
