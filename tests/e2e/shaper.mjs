// A small userspace UDP shaper in front of the TURN server, for the degraded-network tests
// and benchmark: the kernel here has no netem, so delay and loss are made here. Each client
// (a browser's TURN allocation) gets its own upstream socket to coturn; its uplink (client →
// TURN) goes through the impairments, its downlink is forwarded untouched. With both
// participants relay-only, every media packet crosses exactly one shaped uplink, so the
// settings are per-direction, end to end: `delayMs: 150` is 150 ms one way.
import { createSocket } from 'node:dgram';

/**
 * Starts the shaper on 127.0.0.1 (a free port), forwarding to `127.0.0.1:targetPort`.
 * Returns `{ port, set(impairments), stats(), close() }`. Impairments, all optional:
 * `rateKbps` (a token bucket: packets queue behind each other at that rate, and the queue
 * holds at most `queueMs` of sending, 300 ms by default; beyond it, packets are dropped as
 * a router's tail drop would), `delayMs` (added to every packet), `loss` (the probability of
 * dropping each packet, 0–1), `down` (drop everything: an outage). `set({})` clears them.
 * `random` makes the loss reproducible in tests (a function returning [0, 1)).
 */
export async function startShaper(targetPort, { random = Math.random } = {}) {
  const front = createSocket('udp4');
  await new Promise((r) => front.bind(0, '127.0.0.1', r));
  /** client "ip:port" → `{ socket, freeAt }`: its upstream socket, and when its shaped
   *  uplink is next free to start sending (ms, `performance.now()`). */
  const clients = new Map();
  let rules = {};
  const counts = { forwarded: 0, dropped: 0 };

  const upstreamFor = (address, port) => {
    const key = `${address}:${port}`;
    let up = clients.get(key);
    if (!up) {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      socket.on('message', (msg) => front.send(msg, port, address));
      socket.on('error', () => {});
      up = { socket, freeAt: 0 };
      clients.set(key, up);
    }
    return up;
  };

  front.on('message', (msg, { address, port }) => {
    const up = upstreamFor(address, port);
    const now = performance.now();
    if (rules.down || (rules.loss && random() < rules.loss)) {
      counts.dropped += 1;
      return;
    }
    let at = now;
    if (rules.rateKbps) {
      const start = Math.max(now, up.freeAt);
      if (start - now > (rules.queueMs ?? 300)) {
        counts.dropped += 1;
        return;
      }
      up.freeAt = start + (msg.length * 8) / rules.rateKbps; // kbit/s = bits per ms
      at = up.freeAt;
    }
    at += rules.delayMs ?? 0;
    counts.forwarded += 1;
    const send = () => up.socket.send(msg, targetPort, '127.0.0.1');
    if (at - now < 1) send();
    else setTimeout(send, at - now);
  });
  front.on('error', () => {});

  return {
    port: front.address().port,
    set(impairments) {
      rules = { ...impairments };
      for (const up of clients.values()) up.freeAt = 0;
    },
    stats: () => ({ ...counts }),
    close() {
      for (const up of clients.values()) up.socket.close();
      front.close();
    },
  };
}
