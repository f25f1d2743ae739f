import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { subscriptionSpecs } from '../../src/upstream/manager.ts';

const base = (upstreams: unknown[]) => ({
  node: { id: 'b', title: 'B' },
  api_roots: [
    { path: 'isac', title: 'B', collections: [{ id: '11111111-1111-4111-8111-111111111111', alias: 'mirror', title: 'Mirror' }] },
  ],
  upstreams,
});

function problems(upstreams: unknown[]): string[] {
  try {
    parseConfig(base(upstreams));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  return [];
}

describe('the upstreams config section', () => {
  it('applies defaults and resolves local aliases to collection ids', () => {
    const config = parseConfig(
      base([
        {
          name: 'hub',
          url: 'https://hub.example/taxii2/',
          defaults: { page_size: 500 },
          collections: [{ remote: 'Public', local: 'mirror', start: '48h' }],
        },
      ]),
    );
    const [spec] = subscriptionSpecs(config);
    expect(spec).toMatchObject({
      key: 'hub/Public/11111111-1111-4111-8111-111111111111',
      local: '11111111-1111-4111-8111-111111111111',
      pageSize: 500,
      pollIntervalMs: 300_000,
      start: '48h',
      matchVersionAll: true,
      enabled: true,
      backoff: { initialMs: 1000, maxMs: 300_000, authRetryMs: 1_800_000, attempts: 8 },
    });
  });

  it('names the key and the fix for each mistake', () => {
    expect(
      problems([
        {
          name: 'hub',
          url: 'http://hub.example/taxii2/',
          auth: { user: 'me', password: 'inline-secret' },
          tls: { cert_file: 'a.crt' },
          collections: [{ remote: 'Public', local: 'nowhere', start: 'yesterday', poll_interval: '5 minutes' }],
        },
      ]),
    ).toEqual(
      expect.arrayContaining([
        'upstreams[0].url: plain http:// is refused (traffic and credentials would be unencrypted): use https://, or set insecure_http: true on this upstream to accept that',
        expect.stringMatching(/^upstreams\[0\]\.auth(\.password)?: (Unrecognized|unknown) key/),
        'upstreams[0].tls: set both cert_file and key_file (PEM client certificate), or neither',
        'upstreams[0].collections[0].poll_interval: expected a duration such as "5m" (units: ms, s, m, h, d)',
        'upstreams[0].collections[0].start: expected "beginning", an RFC 3339 timestamp ("2025-01-01T00:00:00Z") or a look-back such as "48h"',
      ]),
    );
    expect(problems([{ name: 'hub', url: 'https://h/', auth: { user: 'me' }, collections: [{ remote: 'x', local: 'mirror' }] }])).toEqual([
      'upstreams[0].auth: HTTP Basic needs password_env or password_file (the password itself never goes in this file)',
    ]);
    expect(problems([{ name: 'hub', url: 'https://h/', collections: [{ remote: 'x', local: 'nowhere' }] }])).toEqual([
      'upstreams[0].collections[0].local: unknown local collection "nowhere"; expected one of: mirror',
    ]);
    expect(problems([{ name: 'hub', url: 'https://me:pw@h/taxii2/', collections: [{ remote: 'x', local: 'mirror' }] }])).toEqual([
      'upstreams[0].url: credentials do not belong in the URL; use auth.user with auth.password_env or auth.password_file',
    ]);
    expect(problems([{ name: 'hub', url: 'https://h/', collections: [] }])).toEqual([
      'upstreams[0].collections: an upstream needs at least one collection to poll (or an inbox whose forward_to names it)',
    ]);
  });

  it('accepts a plain http:// upstream only with insecure_http: true, and https by default', () => {
    const http = (extra: Record<string, unknown>) => [
      { name: 'lab', url: 'http://127.0.0.1:9000/taxii2/', collections: [{ remote: 'x', local: 'mirror' }], ...extra },
    ];
    expect(problems(http({}))).toEqual([
      'upstreams[0].url: plain http:// is refused (traffic and credentials would be unencrypted): use https://, or set insecure_http: true on this upstream to accept that',
    ]);
    expect(problems(http({ insecure_http: false }))).toHaveLength(1);
    const allowed = parseConfig(base(http({ insecure_http: true, auth: { token_env: 'LAB_TOKEN' } })));
    expect(allowed.upstreams[0]).toMatchObject({ url: 'http://127.0.0.1:9000/taxii2/', insecure_http: true });
    expect(problems(http({ insecure_http: true, tls: { ca_file: 'lab-ca.crt' } }))).toEqual([
      'upstreams[0].tls: tls settings apply to https:// only; this upstream uses plain http://',
    ]);
    expect(problems(http({ insecure_http: true, url: 'http://me:pw@lab/taxii2/' }))).toEqual([
      'upstreams[0].url: credentials do not belong in the URL; use auth.user with auth.password_env or auth.password_file',
    ]);
    expect(problems(http({ insecure_http: true, url: 'ftp://lab/taxii2/' }))).toEqual([
      'upstreams[0].url: expected an https:// URL (discovery or API root)',
    ]);
    const https = parseConfig(base([{ name: 'hub', url: 'https://hub.example/taxii2/', collections: [{ remote: 'x', local: 'mirror' }] }]));
    expect(https.upstreams[0]?.insecure_http).toBe(false);
  });
});
