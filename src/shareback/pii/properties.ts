/**
 * Which string properties of an object are scanned, and how each is read. Only the properties
 * people write prose or names into: `name`, `description`, `explanation`, note `content` and
 * `abstract`, `labels`, `external_references[].description`, `x_` properties (strings at any
 * depth), an individual's `contact_information`, the display names and logins of
 * `user-account` and `email-addr`, and the same properties of the cyber observables embedded in
 * observed-data `objects`. Never an IOC value: patterns, SCO `value`s, hashes, URLs and file
 * names are not read at all.
 */
import { SCO_TYPES } from '../../stix/types.ts';
import { indexPath, keyPath } from './paths.ts';

/**
 * How a property's string is read:
 * - `text`: prose, every detector;
 * - `threat-name`: the name of a threat (malware, actor …): every detector but person names;
 * - `individual-name`: the `name` of an identity of class individual: a person's name as a whole;
 * - `display-name`: `display_name` of user-account/email-addr: prose, and "Surname, Given";
 * - `account-login`: `account_login` of user-account: an address, or a login that spells a person.
 */
export type Reading = 'text' | 'threat-name' | 'individual-name' | 'display-name' | 'account-login';

export interface ScannedProperty {
  readonly path: string;
  readonly value: string;
  readonly reading: Reading;
}

/** Objects whose own `name` (and `aliases`) is the threat itself. */
export const THREAT_TYPES: ReadonlySet<string> = new Set([
  'attack-pattern',
  'campaign',
  'infrastructure',
  'intrusion-set',
  'malware',
  'threat-actor',
  'tool',
  'vulnerability',
]);

const PROSE_KEYS = ['description', 'explanation', 'content', 'abstract'] as const;

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every string under an `x_` property, at any depth. */
function customStrings(value: unknown, path: string, out: ScannedProperty[]): void {
  if (typeof value === 'string') out.push({ path, value, reading: 'text' });
  else if (Array.isArray(value)) value.forEach((v, i) => customStrings(v, indexPath(path, i), out));
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) customStrings(v, keyPath(path, k), out);
}

export function scannedProperties(object: Json, prefix = '', out: ScannedProperty[] = []): ScannedProperty[] {
  const type = typeof object.type === 'string' ? object.type : '';
  const at = (key: string) => keyPath(prefix, key);
  const text = (key: string, reading: Reading = 'text') => {
    const v = object[key];
    if (typeof v === 'string') out.push({ path: at(key), value: v, reading });
  };

  // a cyber-observable's own properties are observables, not prose: only its names are read
  if (SCO_TYPES.has(type)) {
    if (type === 'user-account' || type === 'email-addr') text('display_name', 'display-name');
    if (type === 'user-account') text('account_login', 'account-login');
  } else {
    const individual = type === 'identity' && object.identity_class === 'individual';
    text('name', individual ? 'individual-name' : THREAT_TYPES.has(type) ? 'threat-name' : 'text');
    for (const key of PROSE_KEYS) text(key);
    if (individual) text('contact_information');
    if (Array.isArray(object.labels)) {
      object.labels.forEach((label, i) => {
        if (typeof label === 'string') out.push({ path: indexPath(at('labels'), i), value: label, reading: 'text' });
      });
    }
    if (Array.isArray(object.external_references)) {
      object.external_references.forEach((ref, i) => {
        if (isRecord(ref) && typeof ref.description === 'string') {
          out.push({ path: keyPath(indexPath(at('external_references'), i), 'description'), value: ref.description, reading: 'text' });
        }
      });
    }
    if (type === 'observed-data' && isRecord(object.objects)) {
      for (const [key, sco] of Object.entries(object.objects)) if (isRecord(sco)) scannedProperties(sco, keyPath(at('objects'), key), out);
    }
  }
  for (const [key, value] of Object.entries(object)) if (key.startsWith('x_')) customStrings(value, at(key), out);
  return out;
}
