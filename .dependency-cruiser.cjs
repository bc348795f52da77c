// Import rules checked by `npm run check` (dependency-cruiser): no cycles anywhere, and the
// domain never imports the HTTP layer (architecture §8: adapters sit at the edges).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle ties modules together so that neither can change or load alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-not-to-http',
      severity: 'error',
      comment: 'Only the HTTP layer, the server wiring and the CLI may import src/http.',
      from: {
        path: '^src/',
        pathNot: ['^src/(http/|server\\.ts|cli\\.ts|demo\\.ts)', '\\.test\\.ts$'],
      },
      to: { path: '^src/http/' },
    },
    {
      name: 'routes-not-to-storage',
      severity: 'error',
      comment: 'Routes stay thin: they call services, which own every query (issue 10, item 4).',
      from: { path: '^src/http/routes/' },
      to: { path: '^src/storage/' },
    },
    {
      name: 'not-to-tests',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { path: '^(src|sim)/', pathNot: '\\.test\\.ts$' },
      to: { path: '(^test/|\\.test\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^node_modules/|\\.payrail/)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
