/**
 * Names of people, by a few explainable rules rather than a statistical model:
 *   1. a given name from a list (first-names.ts) followed by a capitalized surname: "Maria Garcia",
 *      "Jan de Vries", "Thomas J. Müller";
 *   2. an honorific and a name: "Dr. Okafor", "Mrs. Jane Doe", "Herr Schulz";
 *   3. two or three capitalized words right after a word that introduces a person: "reported by
 *      Oluwaseun Adeyemi", "employee: Tran Thi Mai", "CFO Rajiv Menon";
 *   4. in a display name: "Garcia, Maria".
 * A run of capitalized words stops at a word of an organization, product, place, date or threat
 * ("Grace Hospital", "Lincoln Financial", "Wizard Spider"), and a name the object or its bundle
 * gives a threat (malware, actor, tool …), a well-known threat name, or a name followed by a
 * malware word ("Agent Tesla keylogger", "Ragnar Locker") is the threat, not a person.
 * Not found: names in lower or upper case only, single given names, initials with a surname
 * and no honorific ("J. Smith"), and names without any of the cues above.
 */
import { clauseBefore } from '../cues.ts';
import type { Range, Span } from '../types.ts';
import { overlaps } from '../types.ts';
import { isFirstName } from './first-names.ts';

const NAME_WORD = /^(?:Mc|Mac|O['’]|D['’])?\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)?$/u;
const INITIAL = /^\p{Lu}\.$/u;
const PARTICLES = new Set([
  'van',
  'von',
  'de',
  'da',
  'del',
  'della',
  'der',
  'den',
  'di',
  'du',
  'la',
  'le',
  'dos',
  'das',
  'ter',
  'bin',
  'ibn',
  'al',
  'el',
]);
const HONORIFICS = new Set([
  'mr',
  'mrs',
  'ms',
  'mx',
  'miss',
  'dr',
  'prof',
  'professor',
  'sir',
  'dame',
  'herr',
  'frau',
  'mme',
  'mlle',
  'sr',
  'sra',
  'señor',
  'señora',
]);

/**
 * Words that end a run of capitalized words: an organization, product, place, time or threat
 * word is never part of a person's name here.
 */
const STOP_WORDS = new Set(
  `academy account accounts admin administrator advisory agency airlines airport alert alliance
  america americas analytics apt asia associates association authority bank banking bear blizzard
  board bot botnet branch buffalo bulletin bureau campaign capital center centre chollima church
  city client clinic cloud club college commission committee company consulting corp corporation
  council county court credit cyber data day defender department desk digital district dropper
  east electric energy enterprise enterprises europe exchange exploit explorer express federal
  finance financial firm flood foundation framework fund gas global gmbh government group hail
  health healthcare helpdesk holdings hospital hotel inc incorporated industries institute insurance
  intelligence international jackal kit kitten labs lab leopard llc loader locker ltd malware market
  media medical miner ministry mobile month motors national network networks news north office
  online operation operations outlook panda park partners payment payments payroll pharma police
  portal post power project ransomware rat report research retail river road school security server
  service services shell sleet software solutions south spider state station stealer storm street
  support systems tech technologies technology telecom tempest tiger times toolkit trojan trust
  typhoon union university update valley virus water web west windows worm year
  access assignment breach control information logging management policy rights settings status
  workstation
  monday tuesday wednesday thursday friday saturday sunday january february march april may june
  july august september october november december`
    .split(/\s+/)
    .filter(Boolean),
);

/** Words after a name that make it the name of malware or a group. */
const THREAT_NOUN_AFTER =
  /^\s+(?:ransomware|malware|trojan|stealer|infostealer|loader|rat|botnet|backdoor|worm|virus|keylogger|wiper|miner|locker|variant|family|samples?|implant|payload|dropper|downloader|toolkit|campaign|group|gang|apt|operators?|actors?)\b/i;

/** Threats whose names read like people's (checked besides the names the bundle gives threats). */
const KNOWN_THREAT_NAMES: readonly string[] = [
  'Agent Tesla',
  'Agent Smith',
  'Anna Kournikova',
  'Ragnar Locker',
  'Olympic Destroyer',
  'Evgeniy Bogachev',
  'Maksim Yakubets',
  'Igor Turashev',
  'Mikhail Matveev',
];

/** Organizations named after people. */
const KNOWN_ORGANIZATIONS: readonly string[] = [
  'Morgan Stanley',
  'Charles Schwab',
  'Goldman Sachs',
  'Edward Jones',
  'Raymond James',
  'Franklin Templeton',
  'John Deere',
  'John Hancock',
  'Thomson Reuters',
  'Booz Allen',
];

/** The end of a clause that introduces a person: "reported by", "employee:", "CFO". */
const PERSON_INTRO =
  /\b(?:reported by|submitted by|forwarded by|flagged by|noticed by|identified by|discovered by|escalated by|raised by|written by|authored by|prepared by|signed by|approved by|called by|assigned to|on behalf of|according to|spoke (?:with|to)|talked to|interviewed|contact(?:ed)?|contact person|employee|staff member|user|end user|customer|patient|victim|recipient|analyst|engineer|technician|manager|director|officer|administrator|intern|contractor|consultant|colleague|cardholder|account holder|ceo|cfo|cto|ciso|cio|coo|vp|president|owner|tenant|resident|attn|attention|cc|named)\s*[:,-]?\s*$/i;

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

function tokens(text: string): Token[] {
  const out: Token[] = [];
  for (const m of text.matchAll(/\p{L}[\p{L}\p{M}'’-]*\.?/gu)) {
    let t = m[0];
    // keep the period of an initial ("J.") or an honorific ("Dr."), drop a sentence's period
    if (t.endsWith('.') && !(t.length === 2 || HONORIFICS.has(t.slice(0, -1).toLowerCase()))) t = t.slice(0, -1);
    // a possessive is not part of the name: "Wright's laptop"
    t = t.replace(/['’]s$/, '');
    out.push({ text: t, start: m.index, end: m.index + t.length });
  }
  return out;
}

const isNameWord = (t: string) => NAME_WORD.test(t) && !STOP_WORDS.has(t.toLowerCase());
/** only one space (or a non-breaking space) between the words of a name */
const adjacent = (text: string, a: Token, b: Token) => b.start - a.end === 1 && /[ \u00a0]/.test(text[a.end] ?? '');

/**
 * The longest run of name parts from token i: name words, initials and particles (a particle
 * only between name words), ending in a name word. Returns the index past its last token.
 */
function nameRun(text: string, toks: readonly Token[], i: number): number {
  const first = toks[i];
  if (!first || !isNameWord(first.text)) return i;
  let end = i + 1;
  let j = i + 1;
  let words = 1;
  while (j < toks.length && words < 4 && adjacent(text, toks[j - 1] as Token, toks[j] as Token)) {
    const t = (toks[j] as Token).text;
    if (isNameWord(t)) {
      words++;
      end = j + 1;
    } else if (!INITIAL.test(t) && !PARTICLES.has(t)) break;
    j++;
  }
  return end;
}

export interface PersonContext {
  /** names of threats (malware, actors, tools …) in this object and its bundle, any case */
  readonly threatNames: readonly string[];
}

function occurrences(text: string, names: readonly string[]): Range[] {
  const out: Range[] = [];
  const lower = text.toLowerCase();
  for (const name of names) {
    const n = name.toLowerCase();
    if (n.length < 3) continue;
    for (let at = lower.indexOf(n); at >= 0; at = lower.indexOf(n, at + 1)) {
      const before = lower[at - 1];
      const after = lower[at + n.length];
      if ((before === undefined || !/[\p{L}\d]/u.test(before)) && (after === undefined || !/[\p{L}\d]/u.test(after))) {
        out.push({ start: at, end: at + n.length });
      }
    }
  }
  return out;
}

/** Cheap test: two capitalized words in a row (initials and particles between), or an honorific. */
const MAYBE_NAME = new RegExp(
  String.raw`\p{Lu}\p{Ll}[\p{L}'’-]*[ \u00a0](?:\p{Lu}\.[ \u00a0])*(?:(?:${[...PARTICLES].join('|')})[ \u00a0])*\p{Lu}[\p{Ll}'’]|\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Professor|Sir|Dame|Herr|Frau|Mme|Mlle|Sr|Sra)\.?\s`,
  'u',
);

export function findPersonNames(masked: string, context: PersonContext): Span[] {
  if (!MAYBE_NAME.test(masked)) return [];
  const toks = tokens(masked);
  const candidates: Range[] = [];
  for (let i = 0; i < toks.length; i++) {
    const tok = toks[i] as Token;
    const prev = toks[i - 1];
    // 2. honorific + name (an initial may come first: "Dr. J. Okafor")
    if (HONORIFICS.has(tok.text.replace(/\.$/, '').toLowerCase()) && /^\p{Lu}\p{Ll}*\.?$/u.test(tok.text)) {
      let k = i + 1;
      while (k < toks.length && INITIAL.test((toks[k] as Token).text) && adjacent(masked, toks[k - 1] as Token, toks[k] as Token)) k++;
      const next = toks[k];
      if (next && adjacent(masked, toks[k - 1] as Token, next)) {
        const end = nameRun(masked, toks, k);
        if (end > k) {
          candidates.push({ start: tok.start, end: (toks[end - 1] as Token).end });
          i = end - 1;
          continue;
        }
      }
    }
    const end = nameRun(masked, toks, i);
    const words = toks.slice(i, end).filter((t) => isNameWord(t.text)).length;
    if (words < 2) continue;
    // 1. known given name first
    const byGivenName = isFirstName(tok.text);
    // 3. a word introducing a person right before the run
    const introduced =
      !byGivenName && (prev === undefined || prev.end <= tok.start) && PERSON_INTRO.test(clauseBefore(masked, tok.start, 40));
    if (!byGivenName && !introduced) continue;
    candidates.push({ start: tok.start, end: (toks[end - 1] as Token).end });
    i = end - 1;
  }
  if (candidates.length === 0) return [];

  const excluded = occurrences(masked, [...context.threatNames, ...KNOWN_THREAT_NAMES, ...KNOWN_ORGANIZATIONS]);
  const spans: Span[] = [];
  for (const c of candidates) {
    if (excluded.some((r) => overlaps(r, c))) continue;
    if (THREAT_NOUN_AFTER.test(masked.slice(c.end, c.end + 20))) continue;
    spans.push({ kind: 'person_name', ...c });
  }
  return spans;
}

/** 4. "Garcia, Maria" (or "Garcia, Maria L.") as a whole display name. */
export function surnameFirstName(value: string): boolean {
  const m = /^\s*(\p{Lu}[\p{Ll}'’-]+(?:[ -]\p{Lu}[\p{Ll}'’-]+)?),\s*(\p{Lu}\p{Ll}+)(?:\s+\p{Lu}\.?)?\s*$/u.exec(value);
  return m !== null && isFirstName(m[2] as string) && !STOP_WORDS.has((m[1] as string).toLowerCase());
}

const SYSTEM_ACCOUNT_WORDS = new Set(
  `admin administrator adm app apache backup bot build ci daemon data db default deploy dev domain
  ec2 ftp git guest host iis jenkins local mail monitor mysql nginx nobody operator oracle postgres
  print prod root sa scan scanner service sql svc sync sys system temp test tomcat ubuntu user web
  www`
    .split(/\s+/)
    .filter(Boolean),
);

/**
 * A login that spells a person: "maria.garcia", "m_garcia", "garcia.maria", "mariagarcia"; not
 * "svc_backup", "admin", "jsmith" (an initial glued to a surname cannot be told from a word).
 */
export function personLikeLogin(login: string): boolean {
  const local = login.trim().split('@')[0] ?? '';
  const parts = local
    .toLowerCase()
    .split(/[._-]+/)
    .map((p) => p.replace(/\d+$/, ''))
    .filter(Boolean);
  if (parts.length === 0 || parts.some((p) => !/^\p{L}+$/u.test(p) || SYSTEM_ACCOUNT_WORDS.has(p))) return false;
  if (parts.length >= 2) {
    const [a, b] = [parts[0] as string, parts[parts.length - 1] as string];
    const nameLike = (p: string) => p.length >= 2;
    return (isFirstName(a) && nameLike(b)) || (isFirstName(b) && nameLike(a)) || (a.length === 1 && b.length >= 3);
  }
  // one word: a given name glued to a surname
  const word = parts[0] as string;
  if (isFirstName(word)) return false;
  for (let cut = 4; cut <= word.length - 4; cut++) if (isFirstName(word.slice(0, cut))) return true;
  return false;
}
