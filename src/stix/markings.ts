/**
 * TLP marking definitions (TLP 1.0 built into STIX 2.1, TLP 2.0 from the OASIS common objects)
 * and the restrictiveness order the relay's policy uses. Unknown markings are not guessed at:
 * callers treat them as the most restrictive (fail closed).
 */

export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

/** The four TLP 1.0 marking definitions built into STIX 2.1 (§7.2.1.4). */
export const TLP1 = {
  white: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
  green: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
  amber: 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82',
  red: 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed',
} as const;

/** The five TLP 2.0 marking definitions (extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d). */
export const TLP2 = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  amberStrict: 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
} as const;

/** marking-definition id -> TLP level, for both TLP editions. */
export const TLP_MARKINGS: ReadonlyMap<string, TlpLevel> = new Map<string, TlpLevel>([
  [TLP1.white, 'clear'],
  [TLP1.green, 'green'],
  [TLP1.amber, 'amber'],
  [TLP1.red, 'red'],
  [TLP2.clear, 'clear'],
  [TLP2.green, 'green'],
  [TLP2.amber, 'amber'],
  [TLP2.amberStrict, 'amber+strict'],
  [TLP2.red, 'red'],
]);

export function tlpRank(level: TlpLevel): number {
  return TLP_LEVELS.indexOf(level);
}

export function moreRestrictive(a: TlpLevel, b: TlpLevel): TlpLevel {
  return tlpRank(a) >= tlpRank(b) ? a : b;
}

/** How an object's whole-object markings resolve. */
export type ObjectTlp =
  | { readonly kind: 'unmarked' }
  | { readonly kind: 'tlp'; readonly level: TlpLevel }
  /** at least one marking the node cannot classify: treated as the most restrictive */
  | { readonly kind: 'unknown'; readonly markings: readonly string[] };

/**
 * Resolves `object_marking_refs` to the most restrictive TLP level. Non-TLP markings that the
 * operator explicitly classified (`extra`) count as that level; statement markings the
 * operator lists as `ignorable` (copyright notices, terms of use) do not restrict; any other
 * marking is unknown.
 */
export function resolveObjectTlp(
  refs: readonly string[] | undefined,
  extra: ReadonlyMap<string, TlpLevel> = new Map(),
  ignorable: ReadonlySet<string> = new Set(),
): ObjectTlp {
  if (!refs || refs.length === 0) return { kind: 'unmarked' };
  let level: TlpLevel | undefined;
  const unknown: string[] = [];
  for (const ref of refs) {
    const known = TLP_MARKINGS.get(ref) ?? extra.get(ref);
    if (known) level = level ? moreRestrictive(level, known) : known;
    else if (!ignorable.has(ref)) unknown.push(ref);
  }
  if (unknown.length > 0) return { kind: 'unknown', markings: unknown };
  return level ? { kind: 'tlp', level } : { kind: 'unmarked' };
}
