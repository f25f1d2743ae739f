/**
 * Context words: what the words just before a candidate say about it. A threat cue ("phishing
 * sent from", "vishing callback") makes an address or number the threat itself; a person cue
 * ("reported by", "employee", "contact") makes it someone's data. The nearer one wins.
 */

/** The text of the candidate's clause before it: back to a sentence end or line break, at most `max` characters. */
export function clauseBefore(text: string, start: number, max = 80): string {
  const from = Math.max(0, start - max);
  const window = text.slice(from, start);
  let cut = -1;
  for (const m of window.matchAll(/[.!?;](?=\s)|\n/g)) cut = m.index + m[0].length;
  return cut >= 0 ? window.slice(cut) : window;
}

export type Cue = 'threat' | 'person' | null;

/** Which cue class occurs last (nearest the candidate) in `before`, if any. */
export function nearestCue(before: string, threat: RegExp, person: RegExp): Cue {
  const last = (re: RegExp) => {
    let at = -1;
    for (const m of before.matchAll(re)) at = m.index + m[0].length;
    return at;
  };
  const t = last(threat);
  const p = last(person);
  if (t < 0 && p < 0) return null;
  return t > p ? 'threat' : 'person';
}

/**
 * An apposition right after the candidate that calls it the threat: "x@y (a BEC sender)",
 * "x@y, the phishing sender". Only directly attached descriptions count: a threat word later in
 * the clause ("x@y confirmed the request was fraudulent") says nothing about the address.
 */
export function threatApposition(text: string, end: number): boolean {
  return /^\s*(?:\(|,|–|—|-)\s*(?:(?:a|an|the)\s+)?(?:[\w-]+\s+){0,2}?(?:sender|phish\w*|spoof\w*|lure|c2|attacker\w*|drop(?:box| address)|scam\w*|fraudster\w*)\b/i.test(
    text.slice(end, end + 60),
  );
}

/** Words in front of a sender, mailbox or number the threat uses. */
export const THREAT_CUES =
  /\b(?:phish\w*|spear-?phish\w*|smish\w*|vish\w*|spoof\w*|sender|sent (?:from|by|via)|malicious|attacker\w*|adversar\w*|threat actor|actors?|lures?|fraudulent|fraudster\w*|scam\w*|callback|call-back|toad|c2|command and control|exfiltrat\w*|dropzone|drop address|bec|operators?|ransom\w*|extortion)\b/gi;

/** Words in front of someone's own mailbox, number or name. */
export const PERSON_CUES =
  /\b(?:reported by|reporter|submitted by|forwarded by|flagged by|noticed by|identified by|contact\w*|employee\w*|staff|users?|recipients?|victims?|analysts?|owners?|customers?|clients?|patients?|colleagues?|managers?|cardholders?|account holders?|mailbox of|account of|targeted|received by|reach(?:ed)?|call(?:ed)?|phone|tel|mobile|cell|fax|whatsapp)\b/gi;
