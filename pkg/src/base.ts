// What every wrapper class shares: the wasm object it holds, events and `free`.
import { call, invalid, released } from './errors.js';
import { arg, listener, listenerOptions, oneOf } from './validate.js';

/** Wrapper → the wasm object it holds. Module-private: nothing outside the package can set
 *  it, so a wrapper is either made by this package or refused. */
const INNER = new WeakMap<object, Inner>();

/** What a wasm class instance offers every wrapper. */
export interface Inner {
  free(): void;
  /** Where the wasm object dispatches its events (classes with events). */
  readonly eventTarget?: EventTarget;
}

/** Makes a wrapper of `cls` around a wasm object, without running the public constructor. */
export function wrap<W extends object>(cls: { prototype: W }, inner: Inner): W {
  const w = Object.create(cls.prototype) as W;
  INNER.set(w, inner);
  return w;
}

/** Sets the wasm object of a wrapper built by a public constructor. */
export function hold(w: object, inner: Inner): void {
  INNER.set(w, inner);
}

/** The wasm object `w` holds; `InvalidState` once freed or for a look-alike. */
export function inner<I>(w: object, what: string): I {
  const i = INNER.get(w);
  if (!i) throw released(what);
  return i as unknown as I;
}

/** The wasm object of the wrapper `v` if it is a live one of class `cls`, else undefined. */
export function innerOf<I>(v: unknown, cls: Function): I | undefined {
  if ((typeof v !== 'object' && typeof v !== 'function') || v === null) return undefined;
  const i = INNER.get(v);
  return i instanceof (cls as new () => unknown) ? (i as unknown as I) : undefined;
}

/** Frees the wasm object (idempotent). */
export function free(w: object): void {
  const i = INNER.get(w);
  INNER.delete(w);
  i?.free();
}

/** The names of an event map's events, listed once: the type makes the list exhaustive. */
export const eventNames = <M>(names: { [K in keyof M]-?: true }): string[] => Object.keys(names);

/**
 * `addEventListener` / `removeEventListener` through the wrapper to the wasm object's event
 * target (with the listener's options), or to the target `local` names for events the
 * TypeScript layer dispatches itself.
 */
export function listen(w: object, what: string, events: string[], add: boolean, type: unknown, fn: unknown, options: unknown, local?: (type: string) => EventTarget | undefined): void {
  const t = arg(type, 'type', oneOf(...events));
  const f = arg(fn, 'listener', listener);
  const o = arg(options, 'options', listenerOptions);
  const i = inner<Inner>(w, what);
  const own = local?.(t);
  if (own) {
    const l = f as EventListener;
    if (add) own.addEventListener(t, l, o as AddEventListenerOptions);
    else own.removeEventListener(t, l, o as EventListenerOptions);
    return;
  }
  const target = eventsOf(i);
  const l = f as EventListener;
  call(() => add
    ? target.addEventListener(t, l, o as AddEventListenerOptions)
    : target.removeEventListener(t, l, o as EventListenerOptions));
}

/** Where wasm object `i` dispatches its events. */
export function eventsOf(i: Inner): EventTarget {
  const target = i.eventTarget;
  if (!target) throw invalid('type', 'an event this object dispatches');
  return target;
}

/** Adds `[Symbol.dispose]` (where the platform has it) as `free`, as wasm-bindgen does. */
export function disposable(cls: { prototype: { free(): void } }): void {
  const dispose = (Symbol as { dispose?: symbol }).dispose;
  if (dispose) {
    Object.defineProperty(cls.prototype, dispose, { value: cls.prototype.free, configurable: true, writable: true });
  }
}
