/**
 * Mentions of a sharing member in text: its name and aliases as whole words, case-insensitive,
 * and its identity ids. Scrubbing replaces a name with a neutral token and an identity id with
 * the relay's, so the sentence still reads ("phishing aimed at [ISAC member] staff"). "Acme"
 * does not match inside "Acmeware" or "Acme2": a letter, digit or combining mark on either side
 * ends the match; `_`, `-`, `.`, `'`, spaces and punctuation do not (`x_acme_case`, "Acme's").
 * Inside a name, spaces, `_` and `-` are interchangeable ("Acme Bank" = "acme_bank").
 */

/** What a member's name becomes. */
export const MEMBER_TOKEN = '[ISAC member]';

export interface MemberMentions {
  /** `text` with every mention of the member replaced (names by MEMBER_TOKEN, identity ids by the relay's) */
  scrub(text: string): string;
  /** whether `text` mentions the member outside the tokens scrubbing leaves */
  mentions(text: string): boolean;
  /** whether `text` is, as a whole, one of the member's names */
  isName(text: string): boolean;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const WORD = '[\\p{L}\\p{N}\\p{M}]';

/** The alternatives of a name pattern (longest first), or null when there are no names. */
function nameAlternatives(names: readonly string[]): string | null {
  const seen = new Set<string>();
  const alternatives: string[] = [];
  for (const raw of names) {
    const words = raw
      .trim()
      .split(/[\s_-]+/u)
      .filter((w) => w !== '');
    const key = words.join(' ').toLowerCase();
    if (words.length === 0 || seen.has(key)) continue;
    seen.add(key);
    alternatives.push(words.map(escape).join('[\\s_-]+'));
  }
  if (alternatives.length === 0) return null;
  // longest first, so "Acme Bank" wins over its alias "Acme"
  alternatives.sort((a, b) => b.length - a.length);
  return alternatives.join('|');
}

export function memberMentions(names: readonly string[], identityIds: readonly string[], relayIdentityId: string): MemberMentions {
  const alternatives = nameAlternatives(names);
  const names_ = alternatives === null ? null : `(?<!${WORD})(?:${alternatives})(?!${WORD})`;
  const whole = alternatives === null ? null : new RegExp(`^\\s*(?:${alternatives})\\s*$`, 'iu');
  const ids = [...new Set(identityIds.filter((id) => id !== '' && id !== relayIdentityId))];
  const idSource = ids.length === 0 ? null : ids.map(escape).join('|');
  const nameAll = names_ === null ? null : new RegExp(names_, 'giu');
  const nameOne = names_ === null ? null : new RegExp(names_, 'iu');
  const idAll = idSource === null ? null : new RegExp(idSource, 'gi');
  const idOne = idSource === null ? null : new RegExp(idSource, 'i');

  const scrubPart = (part: string): string => {
    let out = idAll ? part.replace(idAll, relayIdentityId) : part;
    if (nameAll) out = out.replace(nameAll, MEMBER_TOKEN);
    return out;
  };
  const mentionedIn = (part: string): boolean => (idOne?.test(part) ?? false) || (nameOne?.test(part) ?? false);

  return {
    // tokens already in the text stay as they are, so scrubbing twice changes nothing
    scrub: (text) => text.split(MEMBER_TOKEN).map(scrubPart).join(MEMBER_TOKEN),
    mentions: (text) => text.split(MEMBER_TOKEN).some(mentionedIn),
    isName: (text) => whole?.test(text) ?? false,
  };
}
