import { describe, expect, it } from 'vitest';
import { type Finding, type PiiKind } from '../../src/shareback/pii/index.ts';
import { scanObject } from '../../src/shareback/pii/scan.ts';
import { cardNetwork } from '../../src/shareback/pii/detectors/card.ts';
import { ibanMod97Valid, luhnValid } from '../../src/shareback/pii/detectors/checksums.ts';
import { isRoleMailbox } from '../../src/shareback/pii/detectors/email.ts';
import { personLikeLogin, surnameFirstName } from '../../src/shareback/pii/detectors/person.ts';
import { ssnInRange } from '../../src/shareback/pii/detectors/ssn.ts';

/** The texts a scan of `description` flags, as [kind, text] pairs. */
function flagged(description: string, extra: Record<string, unknown> = {}): Array<[PiiKind, string]> {
  const object = { type: 'report', id: 'report--00000000-0000-4000-8000-000000000001', description, ...extra };
  return scanObject(object)
    .filter((f) => f.path === 'description')
    .map((f: Finding) => [f.kind, description.slice(f.start, f.end)]);
}

describe('checksums', () => {
  it('Luhn accepts valid card numbers and rejects one changed digit', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('378282246310005')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('IBAN mod-97 accepts registry examples and rejects a swapped pair of digits', () => {
    expect(ibanMod97Valid('DE89370400440532013000')).toBe(true);
    expect(ibanMod97Valid('GB82WEST12345698765432')).toBe(true);
    expect(ibanMod97Valid('DE89370400440532013001')).toBe(false);
    expect(ibanMod97Valid('DE98370400440532013000')).toBe(false);
  });

  it('card networks need their issuer prefix at one of their lengths', () => {
    expect(cardNetwork('4111111111111111')).toBe('visa');
    expect(cardNetwork('378282246310005')).toBe('amex');
    expect(cardNetwork('37828224631000')).toBeNull();
    expect(cardNetwork('8000000000000009')).toBeNull();
  });

  it('SSN ranges exclude area 000, 666 and 900–999, group 00 and serial 0000', () => {
    expect(ssnInRange(219, 9, 9999)).toBe(true);
    for (const [a, g, s] of [
      [0, 12, 3456],
      [666, 12, 3456],
      [900, 12, 3456],
      [219, 0, 3456],
      [219, 9, 0],
    ] as const) {
      expect(ssnInRange(a, g, s)).toBe(false);
    }
  });
});

describe('e-mail addresses', () => {
  it('flags a person mailbox with its exact span', () => {
    const text = 'Reported by maria.garcia@acme-bank.example today';
    const [finding] = scanObject({ type: 'note', id: 'note--1', content: text });
    expect(finding).toEqual({ path: 'content', kind: 'email', start: 12, end: 42 });
    expect(text.slice(12, 42)).toBe('maria.garcia@acme-bank.example');
  });

  it('does not flag role mailboxes of organizations', () => {
    for (const local of [
      'abuse',
      'soc',
      'security',
      'info',
      'noreply',
      'no-reply',
      'postmaster',
      'security-team',
      'soc.alerts',
      'abuse+isac',
    ]) {
      expect(isRoleMailbox(`${local}@bank.example`)).toBe(true);
    }
    expect(isRoleMailbox('maria.garcia@bank.example')).toBe(false);
    expect(flagged('Send samples to abuse@bank.example or soc@isac.example.')).toEqual([]);
  });

  it('does not flag the phishing sender an indicator is about, in any case', () => {
    const sender = 'Jane.Doe@evil-mail.example';
    const extra = { pattern: `[email-addr:value = '${sender.toLowerCase()}']` };
    expect(flagged(`Emails from ${sender} carried a macro.`, extra)).toEqual([]);
    // without the pattern the same address is someone's mailbox
    expect(flagged(`Emails from ${sender} carried a macro.`)).toEqual([['email', sender]]);
  });

  it('does not flag a sender the text calls the threat, but does flag the reporter beside it', () => {
    expect(flagged('Phishing sent from kim.lee@pay-secure.example; reported by ana.souza@bank.example.')).toEqual([
      ['email', 'ana.souza@bank.example'],
    ]);
    expect(flagged('Replies went to kim.lee@pay-secure.example (the BEC sender).')).toEqual([]);
  });

  it('does not flag an address inside a URL', () => {
    expect(flagged('Landing page hxxps://evil.example/login?u=maria.garcia@bank.example was taken down.')).toEqual([]);
  });
});

describe('phone numbers', () => {
  it('flags international numbers of several countries and US national formats', () => {
    const numbers = [
      '+44 20 7946 0958',
      '+49 30 12345678',
      '+33 6 12 34 56 78',
      '+81 3-1234-5678',
      '0049 89 1234567',
      '(202) 555-0143',
      '212.555.0171',
    ];
    for (const n of numbers) expect(flagged(`Call me on ${n} please.`)).toEqual([['phone', n]]);
  });

  it('cuts a number off where a list goes on', () => {
    expect(flagged('Office +33 1 42 68 53 00, 06 12 34 56 78 is French.').map(([, t]) => t)).toContain('+33 1 42 68 53 00');
  });

  it('flags a bare digit run only after a phone word', () => {
    expect(flagged('tel. 2025550143')).toEqual([['phone', '2025550143']]);
    expect(flagged('order 2025550143 shipped')).toEqual([]);
  });

  it('does not flag toll-free numbers, vishing numbers or numbers in observables', () => {
    expect(flagged('Victims were told to call 1-800-555-0175.')).toEqual([]);
    expect(flagged('Vishing calls came from +1 202 555 0188.')).toEqual([]);
    expect(flagged('Ports 22/5900/8080, build 10.0.19045.3803, epoch 1710512525000, 2024-03-15 14:22:05.')).toEqual([]);
    expect(flagged('C2 198.51.100.7:8443 and 203.0.113.45, SID S-1-5-21-3623811015-3361044348-30300820-1013.')).toEqual([]);
  });
});

describe('numbers with check digits', () => {
  it('flags SSNs with dashes or spaces, and bare nine digits only after an SSN word', () => {
    expect(flagged('Row: 219-09-9999 exposed')).toEqual([['ssn', '219-09-9999']]);
    expect(flagged('Row: 219 09 9999 exposed')).toEqual([['ssn', '219 09 9999']]);
    expect(flagged('SSN: 219099999')).toEqual([['ssn', '219099999']]);
    expect(flagged('invoice 219099999')).toEqual([]);
    expect(flagged('case 666-12-3456 and 000-12-3456 and 912-34-5678')).toEqual([]);
  });

  it('flags card numbers of several networks, whole or grouped, and only if Luhn passes', () => {
    for (const n of ['4111 1111 1111 1111', '5500-0000-0000-0004', '3782 822463 10005', '6011000990139424', '3530111333300000']) {
      expect(flagged(`card ${n} used`)).toEqual([['credit_card', n]]);
    }
    expect(flagged('card 4111 1111 1111 1112 used')).toEqual([]);
    // Luhn-valid, but no network issues it
    expect(flagged('id 8000 0000 0000 0009')).toEqual([]);
  });

  it('does not flag digit-heavy hashes that pass Luhn', () => {
    const hash = '4111111111111111' + 'a3f9c0de12b47e58';
    expect(luhnValid(hash.slice(0, 16))).toBe(true);
    expect(flagged(`sample ${hash} and ${'4111111111111111'.repeat(2)}`)).toEqual([]);
  });

  it('flags IBANs compact or grouped, and not with a wrong check', () => {
    expect(flagged('pay DE89 3704 0044 0532 0130 00 now')).toEqual([['iban', 'DE89 3704 0044 0532 0130 00']]);
    expect(flagged('pay GB82WEST12345698765432.')).toEqual([['iban', 'GB82WEST12345698765432']]);
    expect(flagged('pay DE89 3704 0044 0532 0130 01 now')).toEqual([]);
  });
});

describe('postal addresses', () => {
  it('flags US, UK, German and French addresses through their locality', () => {
    const addresses = [
      '1234 Oak Street, Apt 5C, Austin, TX 78701',
      'PO Box 4471, Tulsa, OK 74159',
      '221B Baker Street, London NW1 6XE',
      'Berliner Str. 45a, 60311 Frankfurt am Main',
      'Unter den Linden 77, 10117 Berlin',
      '12 rue de la Paix, 75002 Paris',
    ];
    for (const a of addresses) expect(flagged(`Ship to ${a}.`)).toEqual([['postal_address', a]]);
  });

  it('does not flag a locality alone', () => {
    expect(flagged('Headquarters in Arlington, VA 22201 and London SW1A 2AA.')).toEqual([]);
  });

  it('keeps a street named after a person an address, not a name', () => {
    expect(flagged('Meet at 500 Martin Luther King Blvd, Austin, TX 78701')).toEqual([
      ['postal_address', '500 Martin Luther King Blvd, Austin, TX 78701'],
    ]);
  });
});

describe('person names', () => {
  it('flags a given name with a surname, an honorific with a name, and a name after a person word', () => {
    expect(flagged('Laptop of Thomas Müller was reimaged.')).toEqual([['person_name', 'Thomas Müller']]);
    expect(flagged('Jan de Vries forwarded it.')).toEqual([['person_name', 'Jan de Vries']]);
    expect(flagged('Dr. Okafor noticed it.')).toEqual([['person_name', 'Dr. Okafor']]);
    expect(flagged('Reported by Oluwaseun Adeyemi yesterday.')).toEqual([['person_name', 'Oluwaseun Adeyemi']]);
    expect(flagged("Benjamin Wright's laptop.")).toEqual([['person_name', 'Benjamin Wright']]);
  });

  it('does not flag organizations, products, threat groups or malware named like people', () => {
    expect(flagged('Grace Hospital and Lincoln Financial Group use MS Teams.')).toEqual([]);
    expect(flagged('Agent Tesla keylogger, Anna Kournikova worm and Ragnar Locker hit Wizard Spider victims.')).toEqual([]);
    expect(flagged('Maria Garcia ransomware encrypted the share.')).toEqual([]);
  });

  it('does not flag the object’s own threat name, nor names other threats in its batch carry', () => {
    const actor = {
      type: 'threat-actor',
      id: 'threat-actor--1',
      name: 'Viktor Sokolov',
      aliases: ['Dmitri Volkov'],
      description: 'Viktor Sokolov, alias Dmitri Volkov, sells access.',
    };
    expect(scanObject(actor)).toEqual([]);
    const report = { type: 'report', id: 'report--1', description: 'Viktor Sokolov advertised VPN access.' };
    expect(scanObject(report).map((f) => f.kind)).toEqual(['person_name']);
    expect(scanObject(report, { threatNames: ['Viktor Sokolov'] })).toEqual([]);
  });

  it('reads display names in "Surname, Given" form and logins that spell a person', () => {
    expect(surnameFirstName('Garcia, Maria')).toBe(true);
    expect(surnameFirstName('Support, Team')).toBe(false);
    for (const login of ['maria.garcia', 'm_garcia', 'garcia.maria2', 'thomasmueller']) expect(personLikeLogin(login)).toBe(true);
    for (const login of ['svc_backup', 'root', 'www-data', 'ec2-user', 'administrator', 'jsmith', 'maria'])
      expect(personLikeLogin(login)).toBe(false);
  });
});
