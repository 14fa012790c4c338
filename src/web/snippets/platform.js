// Platform helpers the wasm imports. JavaScript written here is bundled by wasm-bindgen next
// to its glue (`snippets/`); a few lines of it replace web-sys call sequences whose bindings
// weigh more in the wasm than the JavaScript does (see docs/BENCHMARKS.md, "Bundle size").

/**
 * Fills `bytes` from the platform's cryptographic random source (`crypto.getRandomValues`,
 * in every browser, worker and Node.js 20). Returns false when there is none: the SDK then
 * refuses to run rather than fall back to a weak source.
 */
export function fillRandom(bytes) {
  const crypto = globalThis.crypto;
  if (!crypto || typeof crypto.getRandomValues !== 'function') return false;
  crypto.getRandomValues(bytes);
  return true;
}
