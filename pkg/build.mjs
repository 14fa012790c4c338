// Compiles the package's TypeScript source (src/) — run by `cargo xtask build` after
// wasm-bindgen has generated web/ and node/:
//   index.js   the browser and bundler entry (ESM), importing ./web/teleconsult.js
//   node.cjs   the Node.js entry (CommonJS), requiring ./node/teleconsult.js
//   node.mjs   Node.js ESM, re-exporting node.cjs (one wasm instance for both)
//   types/     declarations from tsc (strict); index.d.ts and node.d.ts point there
// Usage: node pkg/build.mjs [--release]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const release = process.argv.includes('--release');

/** Keeps the wasm-bindgen glue out of the bundle, imported from its place beside the entry. */
const glue = (dir) => ({
  name: 'glue',
  setup(b) {
    b.onResolve({ filter: /\/(web|node)\/teleconsult\.js$/ }, () => ({ path: `./${dir}/teleconsult.js`, external: true }));
  },
});

const common = {
  bundle: true,
  target: 'es2022',
  legalComments: 'none',
  // Release: minified (the public names survive as export names; errors name themselves).
  minify: release,
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: [join(here, 'src/index.ts')],
  outfile: join(here, 'index.js'),
  format: 'esm',
  platform: 'neutral',
  plugins: [glue('web')],
});
await build({
  ...common,
  entryPoints: [join(here, 'src/node.ts')],
  outfile: join(here, 'node.cjs'),
  format: 'cjs',
  platform: 'node',
  plugins: [glue('node')],
});
writeFileSync(
  join(here, 'node.mjs'),
  "// Node.js entry (ESM), sharing the CommonJS build so both module systems see one instance.\nexport * from './node.cjs';\n",
);

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
writeFileSync(join(here, 'index.d.ts'), "// Public types of the `teleconsult` package (from src/, compiled by tsc).\nexport * from './types/index.js';\n");
writeFileSync(join(here, 'node.d.ts'), "// Public types of the `teleconsult` package in Node.js (from src/, compiled by tsc).\nexport * from './types/node.js';\n");
