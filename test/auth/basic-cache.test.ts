import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/index.ts';
import { BasicCache } from '../../src/auth/basic-cache.ts';

const member = (id: string) => ({ kind: 'member', member: { id, name: id, config: {} } }) as unknown as Principal;
const idOf = (p: Principal | undefined) => (p?.kind === 'member' ? p.member.id : p?.admin.id);

describe('BasicCache', () => {
  it('keys by a hash of the header, never the header itself', () => {
    const header = `Basic ${Buffer.from('alice:alice-secret').toString('base64')}`;
    const key = BasicCache.key(header);
    expect(key).not.toContain(header.slice(6));
    expect(BasicCache.key(header)).toBe(key);
    expect(BasicCache.key(`${header}x`)).not.toBe(key);
  });

  it('forgets an entry after its time to live', () => {
    const cache = new BasicCache(1000, 10);
    cache.set('k', member('alice'), 0);
    expect(idOf(cache.get('k', 999))).toBe('alice');
    expect(cache.get('k', 1000)).toBeUndefined();
    expect(cache.get('k', 0)).toBeUndefined();
  });

  it('evicts the oldest entry when full', () => {
    const cache = new BasicCache(1000, 2);
    cache.set('a', member('a'), 0);
    cache.set('b', member('b'), 0);
    cache.set('c', member('c'), 0);
    expect(cache.get('a', 1)).toBeUndefined();
    expect(idOf(cache.get('b', 1))).toBe('b');
    expect(idOf(cache.get('c', 1))).toBe('c');
  });
});
