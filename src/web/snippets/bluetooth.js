// Web Bluetooth IO for `DeviceSession` (src/web/devices/bluetooth.rs).
//
// Why JavaScript: the same sequences compiled from Rust (async state machines awaiting one
// web-sys future after another, an import and its glue per browser method, a closure per
// listener) weighed more in the wasm than these lines do in the package: moving them here
// took the package from 241,541 to 240,127 bytes gzipped (wasm 3.5 KB smaller raw).
//
// This file only moves bytes. What to read and subscribe to comes in as lists of 16-bit
// UUIDs; parsing, validation, state, reconnection, the Record Access Control Point protocol
// and every error an app sees stay in Rust, which treats all that returns from here as
// untrusted input. Comment lines are stripped from the package by `cargo xtask build`.

const BASE = '-0000-1000-8000-00805f9b34fb';

/** The 16-bit UUID of a characteristic on the Bluetooth base UUID, else -1. */
function uuid16(characteristic) {
  const u = characteristic.uuid;
  return u.length === 36 && u.startsWith('0000') && u.endsWith(BASE) ? parseInt(u.slice(4, 8), 16) : -1;
}

/**
 * Opens the browser's device chooser. The app calls `requestDevice` from a user gesture and
 * the chooser needs that gesture's activation, so nothing is awaited before the request.
 * `services` and `optional` are space-separated UUIDs. Resolves to the BluetoothDevice.
 */
export async function btRequest(services, optional) {
  return navigator.bluetooth.requestDevice({
    filters: services.split(' ').map((s) => ({ services: [s] })),
    optionalServices: optional.split(' '),
  });
}

/**
 * Connects the GATT server, discovers every characteristic and reads those whose UUID is in
 * `read` (an array of numbers). Resolves to `{ reads: [{ uuid, value }], subs: [{ uuid,
 * characteristic }] }`: the values read (each a DataView of its own buffer), and the
 * characteristics in `subscribe` that can notify or indicate (for `btSubscribe`). A service
 * or a read the browser refuses is skipped, as a device with one blocklisted or failing
 * characteristic is still worth using.
 */
export async function btConnect(device, read, subscribe) {
  const server = device.gatt;
  await server.connect();
  const found = [];
  for (const service of await server.getPrimaryServices()) {
    found.push(...(await service.getCharacteristics().catch(() => [])));
  }
  const reads = [];
  const subs = [];
  for (const characteristic of found) {
    const uuid = uuid16(characteristic);
    if (read.includes(uuid)) {
      const value = await characteristic.readValue().catch(() => null);
      if (value) reads.push({ uuid, value });
    }
    const { notify, indicate } = characteristic.properties;
    if (subscribe.includes(uuid) && (notify || indicate)) subs.push({ uuid, characteristic });
  }
  return { reads, subs };
}

/**
 * Starts notifications on every characteristic of `subs` (from `btConnect`), calling
 * `onValue({ uuid, value })` for each value that arrives (`value` is the DataView the
 * browser makes for that notification). Resolves to a function that removes every
 * listener; the caller owns it and calls it when the link or session ends.
 * A characteristic that refuses leaves the others listening; a dropped link (NetworkError)
 * removes every listener added so far and rejects.
 */
export async function btSubscribe(subs, onValue) {
  const listening = [];
  const stop = () => {
    for (const [c, listener] of listening.splice(0)) {
      c.removeEventListener('characteristicvaluechanged', listener);
    }
  };
  for (const { uuid, characteristic: c } of subs) {
    const listener = () => onValue({ uuid, value: c.value });
    c.addEventListener('characteristicvaluechanged', listener);
    listening.push([c, listener]);
    try {
      await c.startNotifications();
    } catch (e) {
      if (e?.name === 'NetworkError') {
        stop();
        throw e;
      }
    }
  }
  return stop;
}

/** Writes `bytes` (a Uint8Array) to a characteristic and waits for the device's response. */
export async function btWrite(characteristic, bytes) {
  return characteristic.writeValueWithResponse(bytes);
}

/** Drops the GATT link (a no-op when it is down). */
export function btDisconnect(device) {
  device.gatt?.disconnect();
}
