// A simulated health device for the demo, for people without a Bluetooth heart-rate monitor,
// pulse oximeter or cuff at hand. It produces the same GATT characteristic bytes a real device
// sends (Heart Rate Measurement 0x2A37, PLX Continuous Measurement 0x2A5F, Blood Pressure
// Measurement 0x2A35) and pushes them through the SDK's DeviceBridge, so the readings go
// through the same parsers, validation, provenance, consent checks and FHIR mapping.
// The device id says "simulated" so the clinician's provenance shows where numbers came from.

export const SIMULATOR_ID = 'simulated-demo-device';

/** IEEE 11073 SFLOAT of a whole number (exponent 0), little-endian. */
function sfloat(v) {
  const m = Math.round(v) & 0x0fff;
  return [m & 0xff, m >> 8];
}

export class Simulator {
  /** `bridge`: a DeviceBridge. */
  constructor(bridge) {
    this.bridge = bridge;
    this.timers = [];
    this.t = 0;
  }

  get running() { return this.timers.length > 0; }

  start() {
    if (this.running) return;
    const push = (characteristic, value) => this.bridge.push({ deviceId: SIMULATOR_ID, characteristic, value });
    // Device information first: it becomes the provenance of the readings that follow.
    push('2a29', [...new TextEncoder().encode('Teleconsult demo simulator')]);
    push('2a24', [...new TextEncoder().encode('SIM-1')]);
    const tick = () => {
      this.t += 1;
      const hr = 72 + 6 * Math.sin(this.t / 7) + (Math.random() * 3 - 1.5);
      const spo2 = 97 + Math.round(Math.sin(this.t / 11) + Math.random() * 0.8 - 0.4);
      push('2a37', [0x00, Math.round(hr)]);
      push('2a5f', [0x00, ...sfloat(Math.min(100, spo2)), ...sfloat(hr)]);
    };
    const cuff = () => {
      const sys = 118 + Math.round(Math.random() * 10 - 5);
      const dia = 78 + Math.round(Math.random() * 6 - 3);
      push('2a35', [0x00, ...sfloat(sys), ...sfloat(dia), ...sfloat(dia + (sys - dia) / 3)]);
    };
    tick();
    cuff();
    this.timers.push(setInterval(tick, 1500), setInterval(cuff, 8000));
  }

  stop() {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.bridge.disconnected?.(SIMULATOR_ID);
  }
}
