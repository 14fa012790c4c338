// Browser side of the envelope benchmark: the SDK's AES-256-GCM envelope compiled to wasm
// (the doc-hidden `benchEnvelope` export, src/web/bench.rs) against WebCrypto AES-GCM in the
// same page. One op = seal + open of one 1 KiB frame. Evaluated into a page that has loaded
// the package as `window.t`.
(() => {
  const FRAME = 1024;
  const HEADER = 50;

  /** Wasm: `iterations` seal+open pairs timed inside wasm; returns ops per second. */
  function wasmRound(iterations) {
    const ms = window.t.benchEnvelope(iterations);
    if (!Number.isFinite(ms)) throw new Error('benchEnvelope: a frame failed to seal or open');
    return iterations / (ms / 1000);
  }

  // The same key, IV and header layout the wasm side uses (fixed key, per-frame nonce
  // `iv XOR seq`, the 50-byte header as additional data), so both do the same work per frame.
  let keyPromise;
  function key() {
    keyPromise ??= crypto.subtle.importKey('raw', new Uint8Array(32).fill(0x11), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    return keyPromise;
  }
  const baseIv = new Uint8Array(12).fill(0x22);
  const plaintext = Uint8Array.from({ length: FRAME }, (_, i) => i & 0xff);
  let seq = 0;
  function nextParams() {
    const s = seq++;
    const iv = baseIv.slice();
    const aad = new Uint8Array(HEADER);
    aad[0] = 1; aad[1] = 2; aad.fill(1, 2, 18); aad.fill(2, 18, 26); aad.fill(3, 26, 34); aad.fill(9, 34, 42);
    const view = new DataView(aad.buffer);
    view.setUint32(46, s);
    const ivView = new DataView(iv.buffer);
    ivView.setUint32(8, ivView.getUint32(8) ^ s);
    return { name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 };
  }
  function check(opened) {
    if (opened.byteLength !== FRAME || new Uint8Array(opened)[FRAME - 1] !== 0xff) throw new Error('WebCrypto round trip differs');
  }

  /** WebCrypto, awaiting each encrypt and each decrypt (how a message-at-a-time caller uses it). */
  async function webcryptoAwaitRound(iterations) {
    const k = await key();
    const start = performance.now();
    for (let i = 0; i < iterations; i++) {
      const params = nextParams();
      const sealed = await crypto.subtle.encrypt(params, k, plaintext);
      check(await crypto.subtle.decrypt(params, k, sealed));
    }
    return iterations / ((performance.now() - start) / 1000);
  }

  /**
   * WebCrypto with `batch` operations in flight at once (encrypts together, then their
   * decrypts together): WebCrypto's best case, amortising the promise round trips.
   */
  async function webcryptoBatchRound(iterations, batch) {
    const k = await key();
    const start = performance.now();
    for (let done = 0; done < iterations; done += batch) {
      const n = Math.min(batch, iterations - done);
      const params = Array.from({ length: n }, nextParams);
      const sealed = await Promise.all(params.map((p) => crypto.subtle.encrypt(p, k, plaintext)));
      const opened = await Promise.all(sealed.map((c, i) => crypto.subtle.decrypt(params[i], k, c)));
      opened.forEach(check);
    }
    return iterations / ((performance.now() - start) / 1000);
  }

  /** Iterations of `round` that take about `targetMs`, from a short probe. */
  async function calibrate(round, targetMs) {
    let n = 16;
    for (;;) {
      const start = performance.now();
      await round(n);
      const ms = performance.now() - start;
      if (ms >= 50 || n >= 1 << 20) return Math.max(16, Math.round(n * targetMs / ms));
      n *= 4;
    }
  }

  window.envelopeBench = {
    /**
     * `rounds` interleaved rounds of each method, each about `roundMs` long, after one
     * calibration/warm-up pass. Returns ops/s per round for each method.
     */
    async run({ rounds, roundMs, batch }) {
      const methods = {
        wasm: (n) => wasmRound(n),
        webcrypto: (n) => webcryptoAwaitRound(n),
        webcrypto_batched: (n) => webcryptoBatchRound(n, batch),
      };
      const iterations = {};
      for (const [name, round] of Object.entries(methods)) iterations[name] = await calibrate(round, roundMs);
      const out = Object.fromEntries(Object.keys(methods).map((m) => [m, []]));
      for (let r = 0; r < rounds; r++) {
        for (const [name, round] of Object.entries(methods)) out[name].push(await round(iterations[name]));
      }
      return { opsPerS: out, iterations, userAgent: navigator.userAgent, crossOriginIsolated };
    },
  };
})();
