/**
 * Postal addresses: a street line (house number and a street name ending in a street word, or a
 * German/French street form, or a PO box), extended over a unit ("Apt 4B", "Suite 300") and a
 * locality when one follows: US "City, ST 12345(-6789)", UK "Town POSTCODE", German "12345
 * Stadt", French "75002 Paris". A locality alone ("Arlington, VA 22201") is not an address of
 * anyone and is not a finding.
 */
import type { Span } from '../types.ts';

const CAP = String.raw`\p{Lu}[\p{L}'’-]*`;
const STREET_WORDS = [
  'Street',
  'St',
  'Avenue',
  'Ave',
  'Av',
  'Road',
  'Rd',
  'Boulevard',
  'Blvd',
  'Lane',
  'Ln',
  'Drive',
  'Dr',
  'Court',
  'Ct',
  'Way',
  'Place',
  'Pl',
  'Terrace',
  'Ter',
  'Parkway',
  'Pkwy',
  'Circle',
  'Cir',
  'Highway',
  'Hwy',
  'Square',
  'Sq',
  'Trail',
  'Trl',
  'Pike',
  'Loop',
  'Plaza',
  'Alley',
  'Row',
  'Crescent',
  'Cres',
  'Close',
  'Gardens',
  'Grove',
  'Hill',
  'Mews',
  'Walk',
  'Green',
  'Park',
  'Rise',
  'View',
  'Parade',
  'Esplanade',
  'Turnpike',
  'Expressway',
  'Freeway',
  'Causeway',
  'Wharf',
  'Quay',
].join('|');
const DIRECTION = String.raw`(?:[NS][EW]|[NSEW]|North|South|East|West|Northeast|Northwest|Southeast|Southwest)\.?`;
const HOUSE = String.raw`\d{1,6}(?:-\d{1,4})?[A-Za-z]?`;
const STREET_NAME_WORD = String.raw`(?:${CAP}|\d{1,3}(?:st|nd|rd|th)|de|la|of|the)`;

/** "1600 Pennsylvania Avenue NW", "221B Baker Street", "350 5th Ave" */
const EN_STREET = String.raw`${HOUSE}\s+(?:${DIRECTION}\s+)?${STREET_NAME_WORD}(?:\s+${STREET_NAME_WORD}){0,3}?\s+(?:${STREET_WORDS})\b\.?(?:\s+${DIRECTION}(?![\p{L}]))?`;
const PO_BOX = String.raw`(?:P\.?\s?O\.?\s?Box|Post Office Box|Postfach)\s+\d{1,7}`;
const UNIT = String.raw`(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|Room|Rm|Flat|Bldg|Building|#)\.?\s*#?[\dA-Za-z][\w-]{0,5}\b)`;
const FLAT_PREFIX = String.raw`(?:(?:Flat|Apartment|Apt|Unit)\s+\d{1,4}[A-Za-z]?,?\s+)`;
const US_LOCALITY = String.raw`(?:,?\s*\n?\s*${CAP}(?:\s+${CAP}){0,2},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)`;
const UK_POSTCODE = String.raw`(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})`;
const UK_LOCALITY = String.raw`(?:,?\s*\n?\s*(?:${CAP}(?:\s+${CAP}){0,2},?\s+){1,2}${UK_POSTCODE}\b)`;
const BARE_UK_POSTCODE = String.raw`(?:,?\s+${UK_POSTCODE}\b)`;

/** "Hauptstraße 12a", "Berliner Str. 5", "Am Markt 3", "Unter den Linden 77" */
const DE_SUFFIX = String.raw`(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|steig|pfad|markt|graben|wall)`;
const DE_STREET_NAME = String.raw`(?:${CAP}${DE_SUFFIX}|(?:${CAP}[\s-]){1,2}(?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer|Chaussee)|(?:Am|An der|An den|Im|In der|Auf der|Auf dem|Zum|Zur|Unter den|Hinter der)\s+${CAP})`;
const DE_STREET = String.raw`${DE_STREET_NAME}\s*\d{1,4}\s?[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?(?![\p{L}\d])`;
const DE_LOCALITY = String.raw`(?:,?\s*\n?\s*(?:D-)?\d{5}\s+${CAP}(?:[\s-](?:am|an der|im|${CAP}|\(\p{L}+\))){0,2})`;

/** "12 rue de la Paix, 75002 Paris" (the postcode bounds the street name) */
const FR_STREET = String.raw`\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:[Rr]ue|[Aa]venue|[Aa]v\.|[Bb]oulevard|[Bb]d|[Pp]lace|[Aa]llée|[Cc]hemin|[Qq]uai|[Ii]mpasse|[Rr]oute|[Cc]ours)\s+[\p{L}'’ -]{2,40}?`;
const FR_LOCALITY = String.raw`(?:,?\s*\n?\s*\d{5}\s+${CAP}(?:[\s-]${CAP}){0,2})`;

/** Each pattern with a gate: a street word (or box) without which it cannot match. */
const ADDRESS_PATTERNS: ReadonlyArray<{ readonly pattern: RegExp; readonly gate: RegExp }> = [
  {
    pattern: new RegExp(
      String.raw`(?<![\p{L}\d])${FLAT_PREFIX}?(?:${EN_STREET}|${PO_BOX})${UNIT}?(?:${US_LOCALITY}|${UK_LOCALITY}|${BARE_UK_POSTCODE})?`,
      'gu',
    ),
    gate: new RegExp(String.raw`\b(?:${STREET_WORDS}|Box|Postfach)\b`),
  },
  {
    pattern: new RegExp(String.raw`(?<![\p{L}\d])${DE_STREET}${DE_LOCALITY}?`, 'gu'),
    gate: new RegExp(
      String.raw`${DE_SUFFIX}|Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer|Chaussee|\b(?:Am|An|Im|In|Auf|Zum|Zur|Unter|Hinter)\s`,
      'u',
    ),
  },
  {
    pattern: new RegExp(String.raw`(?<![\p{L}\d])${FR_STREET}${FR_LOCALITY}`, 'gu'),
    gate: /\b(?:[Rr]ue|[Aa]venue|[Aa]v\.|[Bb]oulevard|[Bb]d|[Pp]lace|[Aa]llée|[Cc]hemin|[Qq]uai|[Ii]mpasse|[Rr]oute|[Cc]ours)\s/,
  },
];

export function findPostalAddresses(masked: string): Span[] {
  const spans: Span[] = [];
  // every address form has a number (house, box or postcode)
  if (!/\d/.test(masked)) return spans;
  for (const { pattern, gate } of ADDRESS_PATTERNS) {
    if (!gate.test(masked)) continue;
    for (const m of masked.matchAll(pattern)) {
      const text = m[0].replace(/[\s,]+$/, '');
      spans.push({ kind: 'postal_address', start: m.index, end: m.index + text.length });
    }
  }
  return spans;
}
