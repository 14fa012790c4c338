#!/bin/sh
# Measures the two codecs issue 14 names for structured results crossing the wasm boundary
# (serde_json text + JSON.parse, and serde-wasm-bindgen) against a build that converts
# nothing: wasm size (gzip -9) and time per converted blood-pressure / heart-rate reading
# (reading + FHIR Observations) in Node.js. Not part of the workspace or CI.
set -e
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
for f in base json swb; do
  feat=""; [ "$f" != base ] && feat="--features $f"
  cargo build -q --release --target wasm32-unknown-unknown $feat
  mkdir -p "out/$f"
  wasm-opt -Oz --enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-reference-types --strip-debug \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/codec.wasm" -o "out/$f/c.wasm"
  wasm-bindgen --target nodejs --out-dir "out/$f" "out/$f/c.wasm"
  echo "codec-size: codec=$f wasm_gz=$(gzip -9c "out/$f/c_bg.wasm" | wc -c) js_gz=$(gzip -9c "out/$f/c.js" | wc -c)"
done
for f in base json swb; do node bench.cjs "$f" 2>/dev/null; done
