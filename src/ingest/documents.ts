/**
 * Turns a parsed JSON document into the list of objects it carries: a STIX bundle, a TAXII
 * envelope, a JSON array of objects, or a single object.
 */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}

export interface DocumentContent {
  readonly objects: unknown[];
  /**
   * The document is a STIX 2.0 bundle (`"spec_version": "2.0"` on the bundle, where STIX 2.0
   * puts it): its objects without a `spec_version` of their own are STIX 2.0. Pass it to
   * `Ingestor.ingest` as `inStix20Bundle`.
   */
  readonly stix20Bundle: boolean;
}

export function contentOfDocument(document: unknown): DocumentContent {
  if (Array.isArray(document)) return { objects: document, stix20Bundle: false };
  if (document && typeof document === 'object') {
    const d = document as Record<string, unknown>;
    if (d.type === 'bundle' || (d.type === undefined && 'objects' in d)) {
      const stix20Bundle = d.type === 'bundle' && d.spec_version === '2.0';
      if (d.objects === undefined) return { objects: [], stix20Bundle };
      if (!Array.isArray(d.objects)) throw new DocumentError("'objects' is not a list");
      return { objects: d.objects, stix20Bundle };
    }
    if (typeof d.type === 'string') return { objects: [d], stix20Bundle: false };
  }
  throw new DocumentError('not a STIX bundle, a TAXII envelope, a JSON array or a STIX object');
}

/** The objects of a document (see contentOfDocument, which also says whether it is a STIX 2.0 bundle). */
export function objectsOfDocument(document: unknown): unknown[] {
  return contentOfDocument(document).objects;
}
