// Benchmark dispatcher: `npm run bench -- <name> [args…]` runs bench/<name>.ts's main(args).
// Each benchmark module exports `main(argv): Promise<number>` (the exit status).
type Benchmark = {
  readonly description: string;
  readonly load: () => Promise<{ main(argv: readonly string[]): Promise<number> }>;
};

const benchmarks: Readonly<Record<string, Benchmark>> = {
  ledger: {
    description: 'ledger transfers and batches against the local PostgreSQL (bench/ledger.ts)',
    load: () => import('./ledger.ts'),
  },
  payments: {
    description: 'create-and-confirm payments over HTTP with the PSP simulator (bench/payments.ts)',
    load: () => import('./payments.ts'),
  },
};

function listBenchmarks(write: (line: string) => void): void {
  write('usage: npm run bench -- <name> [options]   (options: npm run bench -- <name> --help)');
  write('available benchmarks:');
  for (const [name, benchmark] of Object.entries(benchmarks))
    write(`  ${name.padEnd(10)} ${benchmark.description}`);
}

export async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    listBenchmarks((line) => console.log(line));
    return name === undefined ? 2 : 0;
  }
  const benchmark = Object.hasOwn(benchmarks, name) ? benchmarks[name] : undefined;
  if (benchmark === undefined) {
    console.error(`unknown benchmark: ${name}`);
    listBenchmarks((line) => console.error(line));
    return 2;
  }
  const module = await benchmark.load();
  return module.main(rest);
}

if (import.meta.main) process.exitCode = await run(process.argv.slice(2));
