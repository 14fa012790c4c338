// Argument checks at the edge of the package. Each check takes the value and the parameter's
// name, and returns what may cross into wasm: the value itself for primitives, a fresh copy
// for bytes and objects (so no getter, Proxy or later mutation reaches the core). A wrong
// value is an `InvalidArgument` TeleconsultError that names the parameter, never the value.
import { invalid, TeleconsultError } from './errors.js';

/** A check: returns the value to pass on, or throws `InvalidArgument`. */
export type Check<T> = (v: unknown, name: string) => T;

/** Runs a check; anything a hostile value throws while being inspected (a Proxy trap, a
 *  getter) becomes `InvalidArgument` for `name`. */
export function arg<T>(v: unknown, name: string, check: Check<T>): T {
  try {
    return check(v, name);
  } catch (e) {
    if (e instanceof TeleconsultError) throw e;
    throw invalid(name, 'a readable value');
  }
}

export const str: Check<string> = (v, n) => {
  if (typeof v !== 'string') throw invalid(n, 'a string');
  return v;
};

export const bool: Check<boolean> = (v, n) => {
  if (typeof v !== 'boolean') throw invalid(n, 'a boolean');
  return v;
};

/** A finite number (a time, an offset, a rate). */
export const num: Check<number> = (v, n) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(n, 'a finite number');
  return v;
};

/** An integer in [min, max]: an id, a sequence number, a count. */
export const int = (min: number, max: number): Check<number> => (v, n) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(n, `an integer from ${min} to ${max}`);
  }
  return v;
};

/** A sequence number or count that fits the core's u32. */
export const u32 = int(0, 0xffff_ffff);

export const fn: Check<Function> = (v, n) => {
  if (typeof v !== 'function') throw invalid(n, 'a function');
  return v;
};

/** One of the given strings. */
export const oneOf = <T extends string>(...allowed: T[]): Check<T> => (v, n) => {
  if (typeof v !== 'string' || !(allowed as string[]).includes(v)) {
    throw invalid(n, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return v as T;
};

export const opt = <T>(check: Check<T>): Check<T | undefined> => (v, n) =>
  v === undefined ? undefined : check(v, n);

export const nullable = <T>(check: Check<T>): Check<T | null | undefined> => (v, n) =>
  v === undefined || v === null ? v : check(v, n);

export const either = <A, B>(a: Check<A>, b: Check<B>, what: string): Check<A | B> => (v, n) => {
  try {
    return a(v, n);
  } catch {
    try {
      return b(v, n);
    } catch {
      throw invalid(n, what);
    }
  }
};

/** Whether a buffer was transferred or detached (its bytes are gone). */
function detached(b: ArrayBufferLike): boolean {
  // `detached` exists from Node.js 22 and recent browsers; a detached buffer has length 0
  // and refuses `slice` everywhere.
  const d = (b as { detached?: boolean }).detached;
  if (typeof d === 'boolean') return d;
  if (b.byteLength > 0) return false;
  try {
    b.slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A copy of the bytes of an ArrayBuffer or any ArrayBufferView, or undefined if `v` is
 *  neither. Throws for a detached buffer. */
function bytesOf(v: unknown, n: string): Uint8Array | undefined {
  let out: Uint8Array | undefined;
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer)) {
    if (detached(v)) throw invalid(n, 'bytes that are not detached');
    out = new Uint8Array(v.slice(0));
  } else if (ArrayBuffer.isView(v)) {
    if (detached(v.buffer)) throw invalid(n, 'bytes that are not detached');
    out = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  }
  return out;
}

/** Bytes: a Uint8Array, an ArrayBuffer or another ArrayBufferView, copied. */
export const bytes: Check<Uint8Array> = (v, n) => {
  const b = bytesOf(v, n);
  if (!b) throw invalid(n, 'a Uint8Array, ArrayBuffer or ArrayBufferView');
  return b;
};

/** An array of byte values (integers 0 to 255), copied. */
export const byteArray: Check<number[]> = (v, n) => {
  if (!Array.isArray(v)) throw invalid(n, 'an array of bytes');
  return list(int(0, 255))(v, n);
};

/** `BytesLike`: bytes, an array of byte values, or a hex string. */
export const bytesLike: Check<Uint8Array | number[] | string> = (v, n) => {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return byteArray(v, n);
  const b = bytesOf(v, n);
  if (!b) throw invalid(n, 'bytes (an ArrayBufferView, ArrayBuffer, byte array or hex string)');
  return b;
};

/** `BluetoothUuid`: a UUID string or a 16- or 32-bit alias number. */
export const uuid: Check<string | number> = (v, n) =>
  typeof v === 'string' ? v : int(0, 0xffff_ffff)(v, n);

/** An array whose every element passes `check`, copied. */
export const list = <T>(check: Check<T>): Check<T[]> => (v, n) => {
  if (!Array.isArray(v)) throw invalid(n, 'an array');
  const len = v.length;
  const out: T[] = [];
  for (let i = 0; i < len; i++) out.push(check(v[i], `${n}[${i}]`));
  return out;
};

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** How deep `data` follows nested objects (a cycle or absurd nesting is refused). */
const MAX_DEPTH = 32;

/**
 * Plain data, deep-copied: strings, finite numbers, booleans, null, undefined, arrays, plain
 * objects and bytes (copied to a Uint8Array). Functions, class instances, BigInts, symbols,
 * non-finite numbers and cycles are refused. For values whose shape the core checks itself.
 */
export const data: Check<unknown> = (v, n) => copy(v, n, 0);

function copy(v: unknown, n: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw invalid(n, 'plain data nested at most 32 deep');
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return v;
    case 'number':
      return num(v, n);
    case 'object': {
      if (v === null) return v;
      if (Array.isArray(v)) return list((x, m) => copy(x, m, depth + 1))(v, n);
      const b = bytesOf(v, n);
      if (b) return b;
      if (!isPlain(v)) throw invalid(n, 'plain data');
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        if (k === '__proto__') continue;
        out[k] = copy(v[k], `${n}.${k}`, depth + 1);
      }
      return out;
    }
    default:
      throw invalid(n, 'plain data');
  }
}

/** The checks of an object's fields; `?` after a name marks it optional. */
export type Shape = Record<string, Check<unknown>>;

/**
 * A plain object with the given fields, copied. Fields named in `shape` (a trailing `?` marks
 * optional ones) are checked; other fields go through `rest` (by default copied as plain
 * `data`; `any` passes them on, for options that hold platform objects such as an AbortSignal).
 */
export const obj = (shape: Shape, rest: Check<unknown> = data): Check<Record<string, unknown>> => (v, n) => {
  if (!isPlain(v)) throw invalid(n, 'a plain object');
  const out: Record<string, unknown> = {};
  const known = new Set<string>();
  for (const [key, check] of Object.entries(shape)) {
    const optional = key.endsWith('?');
    const k = optional ? key.slice(0, -1) : key;
    known.add(k);
    const x = v[k];
    if (x === undefined) {
      if (!optional) throw invalid(`${n}.${k}`, 'given');
      continue;
    }
    out[k] = check(x, `${n}.${k}`);
  }
  for (const k of Object.keys(v)) {
    if (known.has(k) || k === '__proto__') continue;
    out[k] = rest(v[k], `${n}.${k}`);
  }
  return out;
};

/** Any value (a platform object such as a MediaStream, checked by the platform). */
export const any: Check<unknown> = (v) => v;

/** Something with `addEventListener` and `removeEventListener` methods. */
export const eventSource: Check<object> = (v, n) => {
  if (
    (typeof v !== 'object' && typeof v !== 'function') ||
    v === null ||
    typeof (v as { addEventListener?: unknown }).addEventListener !== 'function' ||
    typeof (v as { removeEventListener?: unknown }).removeEventListener !== 'function'
  ) {
    throw invalid(n, 'an object with addEventListener and removeEventListener');
  }
  return v;
};

/** An event listener: a function, as the declarations say (the core calls it). */
export const listener: Check<unknown> = (v, n) => fn(v, n);

/** `addEventListener`'s options: a boolean or an object. */
export const listenerOptions: Check<unknown> = (v, n) => {
  if (v === undefined || typeof v === 'boolean') return v;
  return obj({}, any)(v, n);
};

// ----- shared shapes ---------------------------------------------------------------------

export const recipient = obj({
  kind: oneOf('Practitioner', 'Organization'),
  id: str,
});

export const purpose = oneOf('TREAT', 'ETREAT', 'CAREMGT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PATRQT', 'PUBHLTH', 'HQUALIMP');

export const category = oneOf(
  'video', 'audio', 'recording', 'screen-share', 'heart-rate', 'blood-pressure',
  'body-temperature', 'body-weight', 'blood-glucose', 'spo2', 'chat-history', 'files',
);

export const notice = obj({
  uri: str,
  version: str,
  language: str,
  text: either(str, bytes, 'a string or bytes'),
});

export const storage = oneOf('indexeddb', 'memory');

export const fhirOptions = obj({ subject: str, 'device?': str, 'gatewayDevice?': str });

export const deviceSourceOptions = obj({ 'fhir?': fhirOptions, 'utcOffsetMinutes?': nullable(num) });

export const request = obj({
  category,
  'recipient?': recipient,
  'purpose?': purpose,
  'now?': num,
  'noticeVersion?': str,
});

/** A reading: plain data, deep-copied (its shape and id are checked by the core). */
export const reading = obj({ id: str }, data);
