/**
 * Property paths of findings. Object keys are joined with dots and array indices are written in
 * brackets, as in `external_references[0].description` and `labels[2]`; the keys of an
 * observed-data `objects` dictionary are keys, so `objects.0.display_name`. A key that is not
 * made of letters, digits, `_`, `-` or `$` is written as a JSON string in brackets:
 * `x_notes["full name"]`.
 */
const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

export function keyPath(parent: string, key: string): string {
  if (!PLAIN_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}
