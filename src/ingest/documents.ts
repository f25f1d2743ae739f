/**
 * Turns a parsed JSON document into the list of objects it carries: a STIX bundle, a TAXII
 * envelope, a JSON array of objects, or a single object.
 */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}

export function objectsOfDocument(document: unknown): unknown[] {
  if (Array.isArray(document)) return document;
  if (document && typeof document === 'object') {
    const d = document as Record<string, unknown>;
    if (d.type === 'bundle' || (d.type === undefined && 'objects' in d)) {
      if (d.objects === undefined) return [];
      if (!Array.isArray(d.objects)) throw new DocumentError("'objects' is not a list");
      return d.objects;
    }
    if (typeof d.type === 'string') return [d];
  }
  throw new DocumentError('not a STIX bundle, a TAXII envelope, a JSON array or a STIX object');
}
