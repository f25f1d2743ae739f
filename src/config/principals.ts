/**
 * The `members` and `admins` sections: who may authenticate, with which credentials, and which
 * collections a member may read or write. A principal is a member or an admin, never both.
 */
import { z } from 'zod';
import { memberPolicySchema } from './policy.ts';
import { IDENTITY_ID } from './shareback.ts';

const SLUG = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;

const grantSchema = z.strictObject({
  api_root: z.string().min(1),
  collection: z.string().min(1).describe('collection id or alias'),
  read: z.boolean().default(true),
  write: z.boolean().default(false),
});

const SCRYPT_HASH = /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/;

const credentialsSchema = (who: string) =>
  z
    .strictObject({
      basic_secret_hash: z
        .string()
        .regex(SCRYPT_HASH, 'expected a hash made by `relay members hash-secret` ("scrypt$N$r$p$salt$hash")')
        .optional(),
      jwt_subject: z.string().min(1).optional(),
      cert_subject: z.string().min(1).optional().describe('client certificate subject common name'),
      cert_fingerprint: z
        .string()
        .regex(/^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'expected a SHA-256 fingerprint: 64 hex digits, colons allowed')
        .optional(),
    })
    .refine((c) => Object.values(c).some((v) => v !== undefined), {
      message: `${who} needs at least one credential: basic_secret_hash, jwt_subject, cert_subject or cert_fingerprint`,
    });

export const memberSchema = z.strictObject({
  id: z.string().regex(SLUG, 'expected a short name without spaces'),
  name: z.string().min(1),
  credentials: credentialsSchema('a member'),
  grants: z.array(grantSchema).default([]),
  policy: memberPolicySchema,
  // share-back: how the member is named, so anonymization can remove it (shareback/anonymize.ts)
  aliases: z.array(z.string().min(1)).default([]).describe('other names the member goes by: short names, former names, its domains'),
  identity_ids: z
    .array(z.string().regex(IDENTITY_ID, 'expected a STIX identity id ("identity--<UUID>")'))
    .default([])
    .describe("the member's own STIX identity ids (its created_by_ref)"),
});

/** Operators who review share-back over the admin API; not members: they hold no grants. */
export const adminSchema = z.strictObject({
  id: z.string().regex(SLUG, 'expected a short name without spaces'),
  name: z.string().min(1),
  credentials: credentialsSchema('an admin'),
});

/**
 * Ids are unique among members and admins together, every grant names a collection that exists
 * (`roots`: each API root path with the ids and aliases of its collections), and no credential
 * is held by both a member and an admin.
 */
export function checkPrincipals(
  members: ReadonlyArray<z.infer<typeof memberSchema>>,
  admins: ReadonlyArray<z.infer<typeof adminSchema>>,
  roots: ReadonlyMap<string, ReadonlySet<string>>,
  issue: (path: Array<string | number>, message: string) => void,
): void {
  const memberIds = new Set<string>();
  members.forEach((m, i) => {
    if (memberIds.has(m.id)) issue(['members', i, 'id'], `duplicate member id "${m.id}"`);
    memberIds.add(m.id);
    m.grants.forEach((g, j) => {
      const names = roots.get(g.api_root);
      if (!names) {
        issue(
          ['members', i, 'grants', j, 'api_root'],
          `unknown API root "${g.api_root}"; expected one of: ${[...roots.keys()].join(', ')}`,
        );
      } else if (!names.has(g.collection)) {
        issue(['members', i, 'grants', j, 'collection'], `unknown collection "${g.collection}" in API root "${g.api_root}"`);
      }
    });
  });
  const adminIds = new Set<string>();
  admins.forEach((a, i) => {
    if (adminIds.has(a.id)) issue(['admins', i, 'id'], `duplicate admin id "${a.id}"`);
    if (memberIds.has(a.id)) issue(['admins', i, 'id'], `"${a.id}" is a member id; an admin needs an id of its own`);
    adminIds.add(a.id);
  });
  checkDistinctCredentials(members, admins, issue);
}

/**
 * A token subject or client certificate names one principal: shared between a member and an
 * admin, it would make one of them the other.
 */
function checkDistinctCredentials(
  members: ReadonlyArray<{ credentials: Record<string, string | undefined> }>,
  admins: ReadonlyArray<{ credentials: Record<string, string | undefined> }>,
  issue: (path: Array<string | number>, message: string) => void,
): void {
  const keys = ['jwt_subject', 'cert_subject', 'cert_fingerprint'] as const;
  const normalize = (key: string, value: string) => (key === 'cert_fingerprint' ? value.toLowerCase().replace(/[^0-9a-f]/g, '') : value);
  const held = new Map<string, Set<string>>(keys.map((k) => [k, new Set<string>()]));
  for (const m of members)
    for (const k of keys) {
      const v = m.credentials[k];
      if (v !== undefined) held.get(k)?.add(normalize(k, v));
    }
  admins.forEach((a, i) => {
    for (const k of keys) {
      const v = a.credentials[k];
      if (v !== undefined && held.get(k)?.has(normalize(k, v))) {
        issue(['admins', i, 'credentials', k], `a member has this ${k}; an admin needs credentials of its own`);
      }
    }
  });
}
