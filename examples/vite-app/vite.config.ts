import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, searchForWorkspaceRoot, type Plugin } from 'vite';

/** The teleconsult package's real directory (../../pkg: `file:` dependencies are symlinks). */
function teleconsultDir(): string | undefined {
  try {
    return dirname(realpathSync(fileURLToPath(new URL('./node_modules/teleconsult/package.json', import.meta.url))));
  } catch {
    return undefined; // not installed: the build fails on the import with a clearer message
  }
}
const pkgDir = teleconsultDir();

/**
 * WORKAROUND for a bug in the teleconsult package (remove once pkg/package.json is fixed).
 *
 * The package says `"sideEffects": false`, but its browser entry index.js exists for a side
 * effect: `await init(new URL('./web/teleconsult_bg.wasm', import.meta.url))`. Every name an
 * app imports is re-exported from other files, so Rollup (and so `vite build`) sees nothing
 * used from index.js itself, trusts `sideEffects: false`, and drops the init: the built app
 * throws "Cannot read properties of undefined (reading 'capabilities')" and never fetches the
 * .wasm. This plugin tells Rollup that the entry's statements do matter.
 * Set TELECONSULT_NO_WORKAROUND=1 to build without it (test/build.test.mjs does, to track
 * the package bug).
 */
function keepTeleconsultInit(): Plugin {
  const entry = pkgDir === undefined ? undefined : `${pkgDir}/index.js`;
  return {
    name: 'keep-teleconsult-init',
    transform(code, id) {
      if (entry === undefined || id !== entry) return null;
      return { code, map: null, moduleSideEffects: true };
    },
  };
}

export default defineConfig({
  plugins: process.env['TELECONSULT_NO_WORKAROUND'] === '1' ? [] : [keepTeleconsultInit()],
  build: {
    // The teleconsult entry top-level-awaits its WebAssembly init: ES2022 allows that.
    target: 'es2022',
  },
  server: {
    // `vite dev` serves the package's .wasm from its real path, ../../pkg, outside this app:
    // allow it (an app that installs the package from the registry needs none of this).
    fs: { allow: [searchForWorkspaceRoot(process.cwd()), ...(pkgDir === undefined ? [] : [pkgDir])] },
  },
  optimizeDeps: {
    // `vite dev` pre-bundles dependencies with esbuild, which would leave the package's
    // `new URL('./web/teleconsult_bg.wasm', import.meta.url)` pointing into .vite/deps/
    // where no .wasm is. Serve the package as it is instead.
    exclude: ['teleconsult'],
  },
});
