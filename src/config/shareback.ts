/**
 * The `shareback` section: how this ISAC names itself when it re-issues what members share, and
 * how the forwarder hands released objects to the hub. Which collections are inboxes, and where
 * they redistribute or forward, is said on the collections themselves (policy.ts).
 */
import { z } from 'zod';

/** A STIX identity id: the ISAC's own, and each member's (so anonymization can remove it). */
export const IDENTITY_ID = /^identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const sharebackSchema = z
  .strictObject({
    identity: z
      .strictObject({
        name: z.string().min(1).optional().describe("the ISAC's name as members and the hub know it; default: node.title"),
        id: z.string().regex(IDENTITY_ID, 'expected a STIX identity id ("identity--<UUID>")').optional(),
        description: z.string().optional(),
      })
      .default({}),
    federation: z
      .string()
      .min(1)
      .optional()
      .describe('fixes re-issued ids: the same on every node of the ISAC; default: the identity name'),
    forwarder: z
      .strictObject({
        batch_size: z.number().int().min(1).max(10_000).default(100),
        status_poll: z
          .string()
          .regex(/^\d+(ms|s|m)$/, 'expected a duration such as "250ms" or "2s"')
          .default('250ms')
          .describe("how often the hub's pending status resource is read"),
        status_timeout: z
          .string()
          .regex(/^\d+(ms|s|m|h)$/, 'expected a duration such as "5m"')
          .default('5m')
          .describe('how long a pending status is followed before the batch is retried'),
      })
      .default({ batch_size: 100, status_poll: '250ms', status_timeout: '5m' }),
  })
  .default({ identity: {}, forwarder: { batch_size: 100, status_poll: '250ms', status_timeout: '5m' } });
