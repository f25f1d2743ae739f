/**
 * UUID version 5 (RFC 9562 §5.5, formerly RFC 4122 §4.3): the first 16 bytes of SHA-1 over the
 * namespace UUID's bytes followed by the name's UTF-8 bytes, with the version (5) and variant
 * (10xx) bits set. It is a name-based identifier format, not a security measure. node:crypto
 * has SHA-1 but no UUIDv5, and no UUID package is installed, so the few lines are here.
 */
import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** The version 5 UUID of `name` in `namespace` (a UUID string), lower-case. */
export function uuidV5(namespace: string, name: string): string {
  if (!UUID.test(namespace)) throw new TypeError(`UUIDv5 namespace is not a UUID: '${namespace}'`);
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
