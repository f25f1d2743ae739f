// ESLint (flat config) with typescript-eslint. Beyond the recommended rules it encodes the
// house rules of docs/ARCHITECTURE.md ("Who may import whom"), so a breach fails CI instead of
// waiting for a reviewer to notice.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** I/O modules: pure code (stix/, policy/) imports none of them. */
const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:tls',
  'node:http',
  'node:https',
  'node:child_process',
  'node:worker_threads',
  'lmdb',
  'nats',
  'undici',
  'hono',
  '@hono/node-server',
  'pino',
];
const ioPaths = IO_MODULES.map((name) => ({
  name,
  message: 'stix/ and policy/ are pure: no I/O (docs/ARCHITECTURE.md, who may import whom).',
}));

/** Rules every src/ module outside cli/ keeps (repeated in each layer's block: a later block replaces the rule's options). */
const EVERYWHERE = [
  { group: ['**/node.ts', '**/node.js'], message: 'Only cli/ may import the composition root (node.ts).' },
  { group: ['**/cli', '**/cli/**'], message: 'Nothing imports cli/: it is the outermost layer.' },
];

/** Project modules that do I/O or wire parts together, as import patterns relative to any src/ file. */
const layer = (dirs, message) => ({ group: dirs.flatMap((d) => [`**/${d}`, `**/${d}/**`]), message });

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'certs/', 'bench/results/', 'dist/', 'coverage/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Barrels list their exports by name, so a module's public surface is read in one place.
    files: ['src/**/index.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: 'Barrels list their exports by name (no export *).' }],
    },
  },
  {
    // Only node.ts and cli/ wire parts together: nothing else imports them.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [...EVERYWHERE, { group: ['lmdb'], message: 'Only store/ opens LMDB.' }],
        },
      ],
    },
  },
  {
    // stix/ is the innermost layer: pure, and imports nothing else of the project.
    files: ['src/stix/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ioPaths,
          patterns: [
            ...EVERYWHERE,
            layer(
              ['policy', 'store', 'ingest', 'taxii', 'upstream', 'federation', 'auth', 'pki', 'config', 'shareback', 'cli'],
              'stix/ imports nothing from the rest of the project.',
            ),
          ],
        },
      ],
    },
  },
  {
    // policy/ is pure: stix/ and types of the configuration only.
    files: ['src/policy/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ioPaths,
          patterns: [
            ...EVERYWHERE,
            {
              ...layer(
                ['store', 'ingest', 'taxii', 'upstream', 'federation', 'auth', 'pki', 'shareback', 'cli'],
                'policy/ is pure: stix/ only.',
              ),
            },
            { ...layer(['config'], 'policy/ may read the configuration types only.'), allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    // store/ knows LMDB and nothing about HTTP, NATS or decisions.
    files: ['src/store/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'node:https', 'nats', 'undici', 'hono', '@hono/node-server'].map((name) => ({
            name,
            message: 'store/ knows LMDB and nothing about HTTP or NATS.',
          })),
          patterns: [
            ...EVERYWHERE,
            layer(['policy'], 'store/ holds attributes; it does not decide (policy/ is used above it).'),
            layer(['taxii', 'upstream', 'federation', 'ingest', 'auth', 'pki', 'shareback', 'cli'], 'store/ imports no module above it.'),
          ],
        },
      ],
    },
  },
  {
    // derive/ (the re-indexer) applies policy/ to what store/ keeps; it knows nothing of HTTP, NATS or ingest.
    files: ['src/derive/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:http', 'node:https', 'nats', 'undici', 'hono', '@hono/node-server', 'lmdb'].map((name) => ({
            name,
            message: 'derive/ works through store/ and policy/ only.',
          })),
          patterns: [
            ...EVERYWHERE,
            layer(['taxii', 'upstream', 'federation', 'ingest', 'auth', 'pki', 'shareback', 'cli'], 'derive/ imports no module above it.'),
          ],
        },
      ],
    },
  },
  {
    // Tests and benchmarks build fixtures from loosely typed JSON.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    // The admin console's script runs in the browser: browser globals, no Node.
    files: ['src/taxii/server/console/**/*.js'],
    languageOptions: {
      globals: {
        document: 'readonly',
        fetch: 'readonly',
        btoa: 'readonly',
        TextEncoder: 'readonly',
        URLSearchParams: 'readonly',
        process: 'off',
      },
    },
  },
);
