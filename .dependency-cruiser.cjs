// Layer rules checked in CI: domain code is pure; handlers and http never reach into another service.
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
