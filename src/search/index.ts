// Stripe's search (GET /v1/<objects>/search): parser, compiler to parameterized SQL, pages.
export * from './compile.ts';
export * from './objects.ts';
export * from './parser.ts';
export * from './search.ts';
