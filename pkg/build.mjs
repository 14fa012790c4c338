// Compiles the package's TypeScript source (src/) — run by `cargo xtask build` after
// wasm-bindgen has generated the glue of the two wasm modules (web/ and node/ for the call
// module, web-devices/ and node-devices/ for the devices module):
//   index.js, devices.js           the browser and bundler entries (ESM) of `teleconsult` and
//                                  `teleconsult/devices`, with their shared code in shared-*.js
//   node.mjs, devices-node.mjs     the Node.js entries (ESM), shared code in node-shared-*.mjs;
//   node.cjs, devices-node.cjs     CommonJS, requiring those (one instance for both systems)
//   types/                         declarations from tsc (strict); *.d.ts point there
// Both entries of a platform are built together with code splitting, so the modules they
// share (errors, wrappers, validation) exist once: `instanceof TeleconsultError` and the
// wrapper of a `Consultation` mean the same in both.
// Usage: node pkg/build.mjs [--release]
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const here = import.meta.dirname;
const release = process.argv.includes('--release');

/** Keeps the wasm-bindgen glue out of the bundle, imported from its place beside the entry. */
const glue = (call, devices) => ({
  name: 'glue',
  setup(b) {
    b.onResolve({ filter: /\/(web|node)\/teleconsult\.js$/ }, () => ({ path: `./${call}/teleconsult.js`, external: true }));
    b.onResolve({ filter: /\/(web|node)-devices\/teleconsult_devices\.js$/ }, () => ({ path: `./${devices}/teleconsult_devices.js`, external: true }));
  },
});

for (const f of readdirSync(here)) {
  if (/^(node-)?shared-.*\.m?js$/.test(f)) rmSync(join(here, f));
}

const common = {
  bundle: true,
  splitting: true,
  format: 'esm',
  outdir: here,
  target: 'es2022',
  legalComments: 'none',
  // Release: minified (the public names survive as export names; errors name themselves).
  minify: release,
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: { index: join(here, 'src/index.ts'), devices: join(here, 'src/devices.ts') },
  chunkNames: 'shared-[hash]',
  platform: 'neutral',
  plugins: [glue('web', 'web-devices')],
});
await build({
  ...common,
  entryPoints: { node: join(here, 'src/node.ts'), 'devices-node': join(here, 'src/devices-node.ts') },
  chunkNames: 'node-shared-[hash]',
  outExtension: { '.js': '.mjs' },
  platform: 'node',
  plugins: [glue('node', 'node-devices')],
});
for (const name of ['node', 'devices-node']) {
  writeFileSync(
    join(here, `${name}.cjs`),
    `// Node.js entry (CommonJS): the ESM build, so both module systems see one instance.\nmodule.exports = require('./${name}.mjs');\n`,
  );
}

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json')], { stdio: 'inherit' });
writeFileSync(join(here, 'index.d.ts'), "// Public types of the `teleconsult` package (from src/, compiled by tsc).\nexport * from './types/index.js';\n");
writeFileSync(join(here, 'node.d.ts'), "// Public types of the `teleconsult` package in Node.js (from src/, compiled by tsc).\nexport * from './types/node.js';\n");
writeFileSync(join(here, 'devices.d.ts'), "// Public types of `teleconsult/devices` (from src/, compiled by tsc).\nexport * from './types/devices.js';\n");
writeFileSync(join(here, 'devices-node.d.ts'), "// Public types of `teleconsult/devices` in Node.js (from src/, compiled by tsc).\nexport * from './types/devices-node.js';\n");
