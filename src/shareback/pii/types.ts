/**
 * What the PII scanner reports. A finding names a string property of a STIX object (its path),
 * what kind of personal data was found in it, and where: `start`/`end` are UTF-16 code-unit
 * offsets into that property's string value (JavaScript string indices; `end` exclusive), so
 * `value.slice(start, end)` is the finding's text.
 */
export const PII_KINDS = ['email', 'phone', 'ssn', 'credit_card', 'iban', 'postal_address', 'person_name'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface Finding {
  /** property path: `description`, `labels[2]`, `external_references[0].description`, `objects.0.display_name` */
  readonly path: string;
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
}

/** A span found by a detector in one string (no path yet). */
export interface Span {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
}

/** A plain [start, end) range of a string. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

export const overlaps = (a: Range, b: Range): boolean => a.start < b.end && b.start < a.end;
