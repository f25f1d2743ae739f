import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { REPO } from '../support/cli.ts';
import { COLLECTIONS, testConfigData } from '../support/node.ts';
import { tempDir } from '../support/stix-fixtures.ts';

const { dir, cleanup } = tempDir('relay-config-');
afterAll(() => cleanup());

type Data = Record<string, any>;
function data(adjust: (d: Data) => void = () => {}): Data {
  const d = testConfigData(join(dir, 'data'), join(dir, 'certs')) as Data;
  adjust(d);
  return d;
}

/** The problems a config is refused with (fails the test when it is accepted). */
function problems(d: unknown, env = {}): string[] {
  try {
    parseConfig(d, 'relay.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('the configuration was accepted');
}

describe('valid configuration', () => {
  it('the test configuration loads from YAML with defaults filled in', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, stringify(data()));
    const config = loadConfig(file, {});
    expect(config.node.id).toBe('test-node');
    expect(config.taxii).toMatchObject({ default_page_size: 50, max_page_size: 200, status_retention_hours: 24 });
    expect(config.auth).toMatchObject({ jwt_issuer: 'relay', jwt_audience: 'relay-taxii', token_ttl: '12h' });
    expect(config.api_roots[0]?.collections.map((c) => c.id)).toEqual(Object.values(COLLECTIONS));
    expect(config.api_roots[0]?.collections[0]?.media_types).toEqual(['application/stix+json;version=2.1']);
    expect(config.members.map((m) => m.id)).toEqual(['alice', 'bob', 'carol']);
    expect(config.data_dir).toBe(join(dir, 'data'));
  });

  it('a key or section left empty (all its keys commented out) takes its default', () => {
    const file = join(dir, 'empty-sections.yaml');
    const yaml = stringify(data((d) => (delete d.taxii, delete d.listen))).concat(
      'taxii:\n  # max_page_size: 500\npki:\n  # dir: ./pki\nlisten:\n',
    );
    writeFileSync(file, yaml);
    const config = loadConfig(file, {});
    expect(config.taxii.max_page_size).toBe(1000);
    expect(config.listen).toBe('127.0.0.1:8443');
    expect(config.pki.dir).toBe(join(dir, 'data', 'pki'));
  });

  it('RELAY_LISTEN and RELAY_DATA_DIR override the file; relative paths are relative to the working directory', () => {
    const config = parseConfig(data(), 'relay.yaml', { RELAY_LISTEN: '[::1]:9443', RELAY_DATA_DIR: 'rel/data' });
    expect(config.listen).toBe('[::1]:9443');
    expect(config.data_dir).toBe(resolve(process.cwd(), 'rel/data'));
    // empty values are no override
    expect(parseConfig(data(), 'relay.yaml', { RELAY_LISTEN: '', RELAY_DATA_DIR: '' }).listen).toBe('127.0.0.1:0');
  });
});

describe('errors name the key path and what is expected', () => {
  it('a value of the wrong type', () => {
    expect(problems(data((d) => (d.taxii.max_page_size = 'lots')))).toEqual([
      'taxii.max_page_size: Invalid input: expected number, received string',
    ]);
    expect(problems(data((d) => (d.taxii.max_page_size = 0)))[0]).toMatch(/^taxii\.max_page_size: .*>\s*0/);
    expect(problems(data((d) => (d.logging.level = 'loud')))[0]).toMatch(/^logging\.level: .*"info"/);
  });

  it('an unknown key, with the keys allowed there', () => {
    expect(problems(data((d) => (d.taxii.max_pagesize = 10)))).toEqual([
      'taxii.max_pagesize: unknown key; expected one of: default_page_size, max_page_size, max_content_length, status_retention_hours',
    ]);
    expect(problems(data((d) => (d.colections = [])))[0]).toMatch(/^colections: unknown key; expected one of: node, listen, data_dir, /);
    expect(problems(data((d) => (d.members[0].credentials.password = 'x')))[0]).toMatch(
      /^members\[0\]\.credentials\.password: unknown key; expected one of: basic_secret_hash, jwt_subject/,
    );
    expect(problems(data((d) => (d.api_roots[0].collections[1].titel = 'x')))[0]).toMatch(
      /^api_roots\[0\]\.collections\[1\]\.titel: unknown key; expected one of: id, alias, title/,
    );
  });

  it('a grant naming an unknown collection or API root', () => {
    expect(problems(data((d) => (d.members[1].grants[0].collection = 'nope')))).toEqual([
      'members[1].grants[0].collection: unknown collection "nope" in API root "isac"',
    ]);
    expect(problems(data((d) => (d.members[0].grants[2].api_root = 'elsewhere')))).toEqual([
      'members[0].grants[2].api_root: unknown API root "elsewhere"; expected one of: isac, other',
    ]);
  });

  it('a bad RELAY_LISTEN', () => {
    for (const listen of ['localhost', '127.0.0.1', ':8443', 'host:port']) {
      expect(problems(data(), { RELAY_LISTEN: listen })).toEqual(['RELAY_LISTEN: expected "host:port", for example "127.0.0.1:8443"']);
    }
    expect(problems(data(), { RELAY_LISTEN: '127.0.0.1:70000' })).toEqual(['RELAY_LISTEN: port must be at most 65535']);
  });

  it('cross-field rules', () => {
    expect(problems(data((d) => (d.taxii.default_page_size = 500)))).toEqual([
      'taxii: taxii.default_page_size must not exceed taxii.max_page_size',
    ]);
    expect(problems(data((d) => (d.tls.cert = 'server.pem')))[0]).toMatch(/^tls: set both tls\.cert and tls\.key/);
    expect(problems(data((d) => (d.members[1].id = 'alice')))).toEqual(['members[1].id: duplicate member id "alice"']);
    expect(problems(data((d) => (d.api_roots[0].collections[1].alias = 'shared'))).join('\n')).toMatch(
      /api_roots\[0\]\.collections\[1\]: collection id or alias "shared" is used twice/,
    );
    expect(problems(data((d) => (d.api_roots[0].collections[0].id = 'abc')))).toEqual([
      'api_roots[0].collections[0].id: expected a UUID (TAXII collection ids are identifiers)',
    ]);
    expect(problems(data((d) => (d.members[2].credentials = {})))[0]).toMatch(
      /^members\[2\]\.credentials: a member needs at least one credential/,
    );
    expect(problems(data((d) => delete d.node))[0]).toMatch(/^node: /);
    expect(problems(data((d) => (d.api_roots = [])))[0]).toBe('api_roots: configure at least one API root');
  });

  it('admins: ids and credentials of their own, and no API root where the admin API is', () => {
    const admin = (credentials: Record<string, string>) => (d: Data) => (d.admins = [{ id: 'reviewer', name: 'Analyst', credentials }]);
    expect(problems(data(admin({ jwt_subject: 'alice' })))).toEqual([
      'admins[0].credentials.jwt_subject: a member has this jwt_subject; an admin needs credentials of its own',
    ]);
    const fingerprint = 'AB:'.repeat(31) + 'AB';
    const shared = data((d) => {
      d.members[2].credentials.cert_fingerprint = fingerprint;
      admin({ cert_fingerprint: fingerprint.toLowerCase().replaceAll(':', '') })(d);
    });
    expect(problems(shared)[0]).toMatch(/^admins\[0\]\.credentials\.cert_fingerprint: a member has this cert_fingerprint/);
    expect(problems(data((d) => (d.admins = [{ id: 'bob', name: 'Bob', credentials: { jwt_subject: 'x' } }])))).toEqual([
      'admins[0].id: "bob" is a member id; an admin needs an id of its own',
    ]);
    expect(problems(data((d) => (d.api_roots[1].path = 'admin')))[0]).toMatch(/^api_roots\[1\]\.path: "admin" is the admin API's path/);
    expect(parseConfig(data(admin({ jwt_subject: 'reviewer', cert_subject: 'reviewer' })), 'relay.yaml').admins).toHaveLength(1);
  });

  it('a token_ttl longer than max_token_ttl, with the fix', () => {
    expect(problems(data((d) => (d.auth = { token_ttl: '31d' })))).toEqual([
      'auth.token_ttl: 31d is longer than auth.max_token_ttl (30d), the longest a token may live: shorten auth.token_ttl or raise auth.max_token_ttl',
    ]);
    // compared as durations, not as text
    expect(problems(data((d) => (d.auth = { token_ttl: '121m', max_token_ttl: '2h' }))).join('\n')).toMatch(
      /^auth\.token_ttl: 121m is longer than auth\.max_token_ttl \(2h\)/,
    );
    expect(
      parseConfig(
        data((d) => (d.auth = { token_ttl: '2h', max_token_ttl: '120m' })),
        'relay.yaml',
      ).auth.token_ttl,
    ).toBe('2h');
    expect(
      parseConfig(
        data((d) => (d.auth = { token_ttl: '7d' })),
        'relay.yaml',
      ).auth,
    ).toMatchObject({ token_ttl: '7d', max_token_ttl: '30d' });
    // a malformed duration gets its own message only
    expect(problems(data((d) => (d.auth = { token_ttl: 'soon' })))).toEqual([
      'auth.token_ttl: expected a duration such as "30m", "12h" or "7d"',
    ]);
  });

  it('every problem is reported at once', () => {
    const found = problems(
      data((d) => {
        d.taxii.max_page_size = 'x';
        d.listen = 'nowhere';
        d.members[1].grants[0].collection = 'nope';
      }),
    );
    expect(found).toHaveLength(2); // the grant check runs once the shapes are right
    expect(found.join('\n')).toMatch(/taxii\.max_page_size/);
    expect(found.join('\n')).toMatch(/listen: expected "host:port"/);
  });

  it('an unreadable file or invalid YAML says so', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/cannot read config file .*missing\.yaml/);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'node:\n  id: [unclosed\n');
    expect(() => loadConfig(bad, {})).toThrow(/config file .*bad\.yaml is not valid YAML/);
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    expect(() => loadConfig(empty, {})).toThrow(ConfigError);
  });

  it('a missing file names what to mount in the container image', () => {
    expect(() => loadConfig(join(dir, 'missing.yaml'), {})).toThrow(/mount it at \/etc\/relay\/relay\.yaml/);
  });
});

describe('the example configuration', () => {
  const EXAMPLE = join(REPO, 'config', 'relay.example.yaml');
  const text = readFileSync(EXAMPLE, 'utf8');

  /** Every key path the schema allows ("tls.client_ca", "members[].credentials.cert_subject", …). */
  function schemaKeys(): string[] {
    const unwrap = (schema: unknown): unknown => {
      let s = schema;
      for (let i = 0; i < 8; i++) {
        if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
        else if (s instanceof z.ZodPipe) s = s.in;
        else break;
      }
      return s;
    };
    const keys: string[] = [];
    const walk = (schema: unknown, prefix: string) => {
      const s = unwrap(schema);
      if (s instanceof z.ZodObject) {
        for (const [key, child] of Object.entries(s.shape as Record<string, unknown>)) {
          keys.push(`${prefix}${key}`);
          walk(child, `${prefix}${key}.`);
        }
      } else if (s instanceof z.ZodArray) walk(s.element, `${prefix.slice(0, -1)}[].`);
    };
    walk(configSchema, '');
    return keys;
  }

  it('shows every key the schema allows, set or commented out', () => {
    const keys = schemaKeys();
    expect(keys).toEqual(
      expect.arrayContaining(['tls.client_ca', 'members[].credentials.cert_subject', 'members[].credentials.cert_fingerprint']),
    );
    const undocumented = keys.filter((path) => {
      const key = (path.split('.').pop() as string).replace(/[[\]]/g, '');
      return !new RegExp(`(^|[\\s{,#])${key}:`, 'm').test(text);
    });
    expect(undocumented).toEqual([]);
  });

  it('loads as it is, and with the client certificate keys uncommented', () => {
    const config = loadConfig(EXAMPLE, {});
    expect(config.tls.client_ca).toBeUndefined();
    const uncommented = text.replace(/^(\s*)# (client_ca|cert_subject|cert_fingerprint):/gm, '$1$2:');
    expect(uncommented).not.toBe(text);
    const file = join(dir, 'example-uncommented.yaml');
    writeFileSync(file, uncommented);
    const withCerts = loadConfig(file, {});
    expect(withCerts.tls.client_ca).toBe('/etc/relay/member-ca.crt');
    expect(withCerts.members[0]?.credentials).toMatchObject({
      cert_subject: 'example',
      cert_fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});
