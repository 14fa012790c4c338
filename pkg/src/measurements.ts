// The stateless parsers: characteristic bytes to measurements, readings and FHIR.
import type {
  BluetoothUuid, BytesLike, CaptureOptions, FhirOptions, Measurement, Observation, Reading,
} from './types/devices.js';
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

/**
 * Parses one characteristic value to the Bluetooth SIG definition.
 *
 * `characteristic`: the 128-bit UUID, the 16-bit alias (`"2a37"`, `"0x2A37"`) or number.
 * `value`: a `DataView`, typed array, `ArrayBuffer`, byte array or base64 string. Returns
 * `{ kind, value }`. Throws a `TeleconsultError`: `MalformedMeasurement` when the bytes do
 * not follow the definition (`reason`, `characteristic` and `field` say where; the message
 * never holds the bytes), `InvalidArgument` for an unknown characteristic or a bad `value`.
 */
export function parseMeasurement(characteristic: BluetoothUuid, value: BytesLike): Measurement {
  const k = arg(characteristic, 'characteristic', uuid);
  const v = arg(value, 'value', bytesLike);
  return call(() => wasm.parseMeasurement(k, v));
}

/**
 * Captures a measurement as a `Reading`: parsed, validated, with provenance, plausibility
 * warnings, a stable id and the `raw` record it can be rebuilt from.
 *
 * Throws `MalformedMeasurement` for bad bytes (also a bad `systemId`, `pnpId`,
 * `weightScaleFeature` or `glucoseContext` value), `InvalidArgument` for a characteristic
 * that is not a measurement (use `parseMeasurement`), a glucose context of another record,
 * or bad options.
 */
export function captureReading(characteristic: BluetoothUuid, value: BytesLike, options: CaptureOptions): Reading {
  const k = arg(characteristic, 'characteristic', uuid);
  const v = arg(value, 'value', bytesLike);
  const o = arg(options, 'options', captureOptions);
  return call(() => wasm.captureReading(k, v, o as unknown as CaptureOptions));
}

/**
 * The FHIR R4 Observations of a reading (HL7 PHD IG; docs/DEVICES.md).
 *
 * `reading` is a reading this SDK produced (it is rebuilt from its `raw` record and its id
 * checked, so edited fields cannot leak into the FHIR form). Returns an array — empty for
 * intermediate cuff pressure, several for a cuff that also reports pulse. Throws
 * `InvalidArgument` when `reading` has no valid `raw` or its id does not match,
 * `MalformedMeasurement` when its raw bytes do not parse.
 */
export function measurementToFhir(reading: Reading, options: FhirOptions): Observation[] {
  const r = arg(reading, 'reading', readingArg);
  const o = arg(options, 'options', fhirOptions);
  return call(() => wasm.measurementToFhir(r as unknown as Reading, o as unknown as FhirOptions));
}

