// Builds JavaScript values from the byte tape src/web/to_js.rs writes: one call per result
// instead of one call through the wasm glue per field (see to_js.rs for the format).

const text = new TextDecoder();

/**
 * The value the tape `bytes` describes. `bytes` is a view of the wasm memory, read before
 * this returns; byte strings are copied out.
 */
export function decodeValue(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const run = () => {
    const n = view.getUint32(at, true);
    at += 4 + n;
    return bytes.subarray(at - n, at);
  };
  const value = () => {
    switch (bytes[at++]) {
      case 1: return false;
      case 2: return true;
      case 3: at += 8; return view.getFloat64(at - 8, true);
      case 4: return text.decode(run());
      case 5: return run().slice();
      case 6: {
        const array = [];
        while (bytes[at] !== 8) array.push(value());
        at++;
        return array;
      }
      case 7: {
        const object = {};
        while (bytes[at] !== 8) {
          at++;
          const key = text.decode(run());
          // An own property even for "__proto__" (plain assignment would set the prototype).
          Object.defineProperty(object, key, { value: value(), enumerable: true, writable: true, configurable: true });
        }
        at++;
        return object;
      }
      default: return undefined;
    }
  };
  return value();
}
