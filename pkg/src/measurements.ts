// The stateless parsers: characteristic bytes to measurements, readings and FHIR.
import type { BluetoothUuid, BytesLike, CaptureOptions, FhirOptions, Measurement, Observation, Reading } from './types/devices.js';
import * as wasm from '../web-devices/teleconsult_devices.js';
import { call } from './errors.js';
import { arg, bytesLike, fhirOptions, nullable, num, obj, reading as readingArg, str, u32, uuid } from './validate.js';

const captureOptions = obj({
  deviceId: str,
  'systemId?': bytesLike,
  'pnpId?': bytesLike,
  'utcOffsetMinutes?': nullable(num),
  'weightScaleFeature?': (v, n) => (typeof v === 'number' ? u32(v, n) : bytesLike(v, n)),
  'glucoseContext?': bytesLike,
  'now?': num,
});

/** Parses one characteristic value to the Bluetooth SIG specification. */
export function parseMeasurement(characteristic: BluetoothUuid, value: BytesLike): Measurement {
  const k = arg(characteristic, 'characteristic', uuid);
  const v = arg(value, 'value', bytesLike);
  return call(() => wasm.parseMeasurement(k, v));
}

/** Parses and validates one characteristic value into a `Reading` with provenance. */
export function captureReading(characteristic: BluetoothUuid, value: BytesLike, options: CaptureOptions): Reading {
  const k = arg(characteristic, 'characteristic', uuid);
  const v = arg(value, 'value', bytesLike);
  const o = arg(options, 'options', captureOptions);
  return call(() => wasm.captureReading(k, v, o as unknown as CaptureOptions));
}

/** The FHIR R4 Observations of a reading. */
export function measurementToFhir(reading: Reading, options: FhirOptions): Observation[] {
  const r = arg(reading, 'reading', readingArg);
  const o = arg(options, 'options', fhirOptions);
  return call(() => wasm.measurementToFhir(r as unknown as Reading, o as unknown as FhirOptions));
}

