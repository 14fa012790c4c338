import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, searchForWorkspaceRoot } from 'vite';

/** The teleconsult package's real directory (../../pkg: `file:` dependencies are symlinks). */
function teleconsultDir(): string | undefined {
  try {
    return dirname(realpathSync(fileURLToPath(new URL('./node_modules/teleconsult/package.json', import.meta.url))));
  } catch {
    return undefined; // not installed: the build fails on the import with a clearer message
  }
}
const pkgDir = teleconsultDir();

export default defineConfig({
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
