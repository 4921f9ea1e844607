// Lint rules: typescript-eslint recommended (type-aware), no console in services and the library.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const outsideStore = 'handlers,application,http,domain,tripHistory';

const storeQueryCalls = ['repo', 'read'].map((name) => ({
  selector: `CallExpression[callee.type='MemberExpression'][callee.property.name='${name}']`,
  message: `.${name}(…) is for store/: call a repository of the service's store/ named for what it does`,
}));

const storeQueryTypes = {
  name: '@ridehail/shared',
  importNames: [
    'Filter',
    'Condition',
    'Sort',
    'FindOptions',
    'NearQuery',
    'Repository',
    'Reader',
    'readerOf',
    'CollectionSpec',
    'defineCollection',
    'readSummary',
    'summaryInTx',
    'recordTripChange',
  ],
  message: "the store's query language and collections stay in the service's store/: ask one of its repositories instead",
};

export default defineConfig(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', 'docs/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['shared/src/**/*.ts', '*-service/src/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
  // A service's store/ is the only place that speaks the generic repository's query language (tx.repo, store.read,
  // filters, sorts, $near): everywhere else asks its repositories for what it needs by name (rides.page, drivers.reserveNearest).
  {
    files: [`*-service/src/{${outsideStore},commands}/**/*.ts`],
    rules: {
      'no-restricted-syntax': ['error', ...storeQueryCalls],
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [storeQueryTypes] }],
    },
  },
  {
    files: [`*-service/src/{${outsideStore}}/**/*.ts`],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [storeQueryTypes],
          patterns: [{ regex: '(^|/)store/collections$', message: "collection specs are store/'s: ask a repository of store/ instead" }],
        },
      ],
    },
  },
  {
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
