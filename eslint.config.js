// @ts-check
// Flat config for `npm run lint` (eslint .), run by .ci/run before the tests.
//
// Layers, in order: @eslint/js recommended, typescript-eslint's type-aware
// recommended set, eslint-plugin-rxjs-x recommended plus a few of its strict
// rules that catch real daemon bugs (forgotten subscriptions, unhandled
// errors, observables created and dropped). Type information comes from the
// TypeScript project service, which reuses tsconfig.json, so one program is
// built for the whole tree and the run stays quick on two cores.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import rxjsX from 'eslint-plugin-rxjs-x';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS_FILES = ['**/*.js', '**/*.mjs', '**/*.cjs'];
const TEST_FILES = ['test/**/*.ts', 'marbles/**/*.ts'];

export default defineConfig(
  {
    name: 'gopherpost/ignores',
    ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', 'reports/'],
  },

  {
    name: 'gopherpost/language',
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
  },

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,

  {
    name: 'gopherpost/typescript',
    files: TS_FILES,
    extends: [rxjsX.configs.recommended],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports' },
      ],
      // With verbatimModuleSyntax, `import { type A }` keeps an empty import
      // at run time; `import type { A }` is what we want.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],

      // From rxjs-x strict, where they find real bugs in a daemon:
      // a subscription nobody keeps cannot be ended at shutdown (completing
      // operators such as takeUntil/take/first silence it)...
      'rxjs-x/no-ignored-subscription': 'error',
      // ...an error with no handler kills the process...
      'rxjs-x/no-ignored-error': 'error',
      // ...and an Observable created but never subscribed does nothing.
      'rxjs-x/no-floating-observables': 'error',
      // The `$` suffix on Observables (CONTRIBUTING.md). Enforced on variables, where a
      // missing `$` hides a stream in plain sight. Not on parameters (operator
      // bodies conventionally take `source`), functions, methods or
      // properties: the rule cannot tell `send: (t) => Observable<R>` (an
      // injected function, common in our deps objects) from an Observable
      // property, and demands `send$`. Note `const f = () => obs$` counts as a
      // variable: declare such helpers with `function`. Subjects are exempt:
      // they are the private producer side (`next`), and what they expose
      // (`events$`, `wake$`) carries the suffix.
      'rxjs-x/finnish': [
        'error',
        {
          functions: false,
          methods: false,
          parameters: false,
          objects: false,
          properties: false,
          variables: true,
          types: { '^(EventEmitter|Subject|BehaviorSubject|ReplaySubject|AsyncSubject)$': false },
        },
      ],
    },
  },

  {
    // Prettier lays code out at 120 columns but leaves comments alone; this
    // holds comments to the same width. Strings, templates and regular
    // expressions may run longer: breaking them only to fit hurts reading.
    name: 'gopherpost/line-length',
    files: [...TS_FILES, ...JS_FILES],
    rules: {
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },

  {
    // Small modules with one job: a file over 300 lines or a function over 80
    // is a sign it holds two. Exceptions are listed with their reasons in
    // docs/architecture.md and marked where they are.
    name: 'gopherpost/size',
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300 }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },

  {
    name: 'gopherpost/tests',
    files: TEST_FILES,
    rules: {
      // Tests subscribe to collect values and end by completion or by the
      // test's own teardown; a Subscription variable per subscribe is noise.
      'rxjs-x/no-ignored-subscription': 'off',
      // A test's error path is the test failing; vitest reports it.
      'rxjs-x/no-ignored-error': 'off',
      // Marble tests name their cold/hot fixtures `source`, `expected`, …
      // as the RxJS marble guide does.
      'rxjs-x/finnish': 'off',
      // vitest matchers (`expect.any(Number)`, `expect.objectContaining`)
      // are typed `any`; asserting with them is the point of a test.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // `expect(spool.list).toBeTypeOf('function')` and friends pass methods
      // unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // `async function* () { yield chunk }` is the shortest way to fake an
      // AsyncIterable<Buffer> body; it needs no await.
      '@typescript-eslint/require-await': 'off',
    },
  },

  {
    // Plain JavaScript (this file, scripts) is not in tsconfig.json: lint it
    // without type information.
    name: 'gopherpost/javascript',
    files: JS_FILES,
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      // Node.js globals these scripts use (the `globals` package is not a
      // dependency; list them here as they are needed).
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
);
