// Platform helpers the wasm imports. JavaScript written here is bundled by wasm-bindgen next
// to its glue (`snippets/`); a few lines of it replace web-sys call sequences whose bindings
// weigh more in the wasm than the JavaScript does (see docs/BENCHMARKS.md, "Bundle size").

/**
 * Opens a WebSocket for binary frames. Its events reach `onEvent(kind, value)`: 0 open,
 * 1 a binary message (`value` a Uint8Array; text frames are not part of the protocol and are
 * dropped), 2 closed (`value` the close code, 1006 when it dropped without a close frame).
 */
export function openSocket(url, onEvent) {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => onEvent(0);
  ws.onmessage = (e) => {
    if (e.data instanceof ArrayBuffer) onEvent(1, new Uint8Array(e.data));
  };
  ws.onclose = (e) => onEvent(2, e.code);
  return ws;
}

/**
 * Calls `onOnline` when the device comes back online and `onVisibility` when the page is
 * shown or hidden, where there is a window and a document. Returns the function that removes
 * both listeners.
 */
export function hostListen(onOnline, onVisibility) {
  const on = [[globalThis.window, 'online', onOnline], [globalThis.document, 'visibilitychange', onVisibility]]
    .filter(([target]) => typeof target?.addEventListener === 'function');
  for (const [target, type, f] of on) target.addEventListener(type, f);
  return () => {
    for (const [target, type, f] of on) target.removeEventListener(type, f);
  };
}

/** Detaches `openSocket`'s handlers and closes the socket normally. */
export function closeSocket(ws) {
  ws.onopen = ws.onmessage = ws.onclose = null;
  ws.close(1000, 'closed by the application');
}
