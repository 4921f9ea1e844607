// Layer rules checked in CI: domain code is pure; services never reach into each other; scripts, bench and lanes use them from outside.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'domain/ holds pure rules: no I/O libraries, no store/handlers/http of its service',
      severity: 'error',
      from: { path: '(^|/)src/domain/' },
      to: {
        path: [
          'node_modules/(amqplib|mongoose|mongodb|express|winston|prom-client|nodemailer)/',
          '(^|/)src/(store|handlers|http)/',
          '(^|/)src/main\\.ts$',
        ],
      },
    },
    {
      name: 'shared-domain-free-of-io',
      comment: 'the library never imports a service',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(ride|driver|payment|notification)-service/' },
    },
    {
      name: 'no-cross-service-imports',
      comment: 'a service never imports another service (they talk through events only)',
      severity: 'error',
      from: { path: '^(ride|driver|payment|notification)-service/src/' },
      to: { path: '^(ride|driver|payment|notification)-service/src/', pathNot: '^$1-service/src/' },
    },
    {
      name: 'testing-kit-stays-in-tests',
      comment: '@ridehail/shared/testing is for tests: no service src, and nothing else of the library, imports it',
      severity: 'error',
      from: { path: '^(shared|ride-service|driver-service|payment-service|notification-service)/src/', pathNot: '^shared/src/testing/' },
      to: { path: ['^shared/src/testing/', '(^|/)shared/dist/testing/'] },
    },
    {
      name: 'outside-in',
      comment:
        'scripts, the bench and the root test lanes (with test/support) reach a service over HTTP, the broker and its own commands; ' +
        "of its code they may import its main only: its config schema (compose lane, scripts' env), its route table " +
        '(bad-input lane) and its start() (the trace lane runs the four in one process to follow a span across them)',
      severity: 'error',
      from: { path: '^(scripts|bench|test)/' },
      to: { path: '^(ride|driver|payment|notification)-service/src/', pathNot: '^[a-z]+-service/src/main\\.ts$' },
    },
    {
      name: 'service-tests-own-service',
      comment: "a service's tests may reach into their own service, never into another's (that one they meet through events)",
      severity: 'error',
      from: { path: '^(ride|driver|payment|notification)-service/test/' },
      to: { path: '^(ride|driver|payment|notification)-service/src/', pathNot: '^$1-service/src/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Only the workspaces' own build output: nodemailer 10, for one, lives under node_modules/nodemailer/dist/.
    exclude: { path: '^[^/]+/dist/' },
    // Resolve packages through their `exports` as Node's require() does (nodemailer 10's lib/* subpaths exist only there).
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
