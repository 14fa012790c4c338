// Types of the devices API (`teleconsult/devices`): measurements, readings, FHIR
// Observations, Bluetooth sessions, the native bridge and readings over a consultation.
import type { TeleconsultError } from '../errors.js';
import type { ErrorCode } from './error-code.js';

/** A Bluetooth UUID: the full 128-bit string (as Web Bluetooth reports it), the 16-bit
 * alias (`"2a37"`, `"0x2A37"`) or the 16-bit number (`0x2A37`). */
export type BluetoothUuid = string | number;

/** Raw characteristic bytes: a `DataView` (Web Bluetooth), any typed array (`Uint8Array`,
 * Node.js `Buffer`), an `ArrayBuffer`, an array of byte values 0–255 (react-native-ble-plx,
 * Cordova), or a base64 string (Capacitor, react-native-ble-plx; standard or URL-safe
 * alphabet, padding optional). At most 512 bytes, the largest GATT attribute value. */
export type BytesLike = DataView | ArrayBufferView | ArrayBuffer | number[] | string;

/** An IEEE 11073 SFLOAT/FLOAT: a number, or the special value the device sent instead. Never
 * chart a special value as a number. */
export type MderFloat = number | "nan" | "nres" | "positiveInfinity" | "negativeInfinity" | "reserved";

/** A device's wall-clock Date Time (0x2A08), no time zone; 0 means unknown. */
export interface DeviceDateTime { year: number; month: number; day: number; hours: number; minutes: number; seconds: number }

/** A status condition a device reported, or a derived one. */
export type StatusFlag =
  | "bodyMovement" | "cuffTooLoose" | "irregularPulse" | "pulseRateAboveRange" | "pulseRateBelowRange"
  | "improperPosition" | "deviceBatteryLow" | "sensorMalfunction" | "sampleSizeInsufficient"
  | "stripInsertionError" | "stripTypeIncorrect" | "resultAboveDeviceRange" | "resultBelowDeviceRange"
  | "sensorTemperatureTooHigh" | "sensorTemperatureTooLow" | "stripPulledTooSoon" | "generalDeviceFault"
  | "timeFault" | "controlSolution" | "measurementOngoing" | "earlyEstimatedData" | "validatedData"
  | "fullyQualifiedData" | "dataFromStorage" | "demonstrationData" | "testingData" | "calibrationOngoing"
  | "measurementUnavailable" | "questionableMeasurement" | "invalidMeasurement"
  | "extendedDisplayUpdateOngoing" | "equipmentMalfunction" | "signalProcessingIrregularity"
  | "inadequateSignal" | "poorSignal" | "lowPerfusion" | "erraticSignal" | "nonpulsatileSignal"
  | "questionablePulse" | "signalAnalysisOngoing" | "sensorInterference" | "sensorUnconnectedToUser"
  | "unknownSensorConnected" | "sensorDisplaced" | "sensorDisconnected" | "noSensorContact"
  | "deviceClockNotSet";

/** A plausibility warning: the value is kept and shown, never dropped or corrected. */
export type ReadingWarning =
  | "heartRateOutOfRange" | "pulseRateOutOfRange" | "spo2OutOfRange" | "systolicNotAboveDiastolic"
  | "systolicOutOfRange" | "diastolicOutOfRange" | "temperatureOutOfRange" | "weightOutOfRange"
  | "bmiOutOfRange" | "heightOutOfRange" | "glucoseOutOfRange" | "weightOffResolution"
  | "heightOffResolution";

/** Heart Rate Measurement 0x2A37. `rrIntervals` in 1/1024 s, oldest first; energy in kJ. */
export interface HeartRateMeasurement {
  heartRate: number;
  sensorContact: "notSupported" | "notDetected" | "detected";
  energyExpended?: number;
  rrIntervals: number[];
}
/** Blood Pressure Measurement 0x2A35. */
export interface BloodPressureMeasurement {
  unit: "mmHg" | "kPa";
  systolic: MderFloat; diastolic: MderFloat; meanArterialPressure: MderFloat;
  timestamp?: DeviceDateTime; pulseRate?: MderFloat; userId?: number; status: StatusFlag[];
}
/** Intermediate Cuff Pressure 0x2A36: progress while the cuff inflates (not a result). */
export interface IntermediateCuffPressure {
  unit: "mmHg" | "kPa"; cuffPressure: MderFloat;
  timestamp?: DeviceDateTime; pulseRate?: MderFloat; userId?: number; status: StatusFlag[];
}
/** Where a thermometer measures (0x2A1D, or inside 0x2A1C). */
export type TemperatureType =
  | "armpit" | "body" | "ear" | "finger" | "gastrointestinalTract" | "mouth" | "rectum" | "toe" | "tympanum";
/** Temperature Measurement 0x2A1C. */
export interface TemperatureMeasurement {
  unit: "celsius" | "fahrenheit"; temperature: MderFloat; timestamp?: DeviceDateTime; temperatureType?: TemperatureType;
}
/** Weight Measurement 0x2A9D: weight in kg or lb (`"nan"`: measurement unsuccessful), BMI in
 * kg/m², height in m or in. */
export interface WeightMeasurement {
  unit: "si" | "imperial"; weight: MderFloat; timestamp?: DeviceDateTime; userId?: number; bmi?: number; height?: number;
}
/** A scale's resolution step in both unit systems (kg and lb, or m and in). */
export interface Resolution { si: number; imperial: number }
/** Weight Scale Feature 0x2A9E. */
export interface WeightScaleFeature {
  timeStampSupported: boolean; multipleUsersSupported: boolean; bmiSupported: boolean;
  weightResolution?: Resolution; heightResolution?: Resolution;
}
/** Glucose sample type. */
export type GlucoseSampleType =
  | "capillaryWholeBlood" | "capillaryPlasma" | "venousWholeBlood" | "venousPlasma" | "arterialWholeBlood"
  | "arterialPlasma" | "undeterminedWholeBlood" | "undeterminedPlasma" | "interstitialFluid" | "controlSolution";
/** Glucose Measurement 0x2A18: concentration in the specification's kg/L or mol/L. */
export interface GlucoseMeasurement {
  sequenceNumber: number; baseTime: DeviceDateTime; timeOffset?: number;
  concentration?: {
    unit: "kg/L" | "mol/L"; value: MderFloat; sampleType: GlucoseSampleType;
    sampleLocation: "finger" | "alternateSiteTest" | "earlobe" | "controlSolution" | "notAvailable";
  };
  status: StatusFlag[]; contextFollows: boolean;
}
/** Glucose Measurement Context 0x2A34 (carbohydrate in g, medication in mg or mL). */
export interface GlucoseContext {
  sequenceNumber: number;
  carbohydrate?: { id: "breakfast" | "lunch" | "dinner" | "snack" | "drink" | "supper" | "brunch"; grams: MderFloat };
  meal?: "preprandial" | "postprandial" | "fasting" | "casual" | "bedtime";
  tester?: "selfTest" | "healthCareProfessional" | "labTest" | "notAvailable";
  health?: "minorHealthIssues" | "majorHealthIssues" | "duringMenses" | "underStress" | "noHealthIssues" | "notAvailable";
  exercise?: { duration: number; intensity: number };
  medication?: {
    id: "rapidActingInsulin" | "shortActingInsulin" | "intermediateActingInsulin" | "longActingInsulin" | "preMixedInsulin";
    amount: MderFloat; unit: string;
  };
  hba1c?: MderFloat;
}
/** A Record Access Control Point 0x2A52 indication. */
export type RacpResponse =
  | { kind: "numberOfRecords"; count: number }
  | {
      kind: "response"; requestOpCode: number;
      code: "success" | "opCodeNotSupported" | "invalidOperator" | "operatorNotSupported" | "invalidOperand"
        | "noRecordsFound" | "abortUnsuccessful" | "procedureNotCompleted" | "operandNotSupported";
    };
/** PLX Spot-Check Measurement 0x2A5E. */
export interface PlxSpotCheck {
  spo2: MderFloat; pulseRate: MderFloat; timestamp?: DeviceDateTime; status: StatusFlag[];
  pulseAmplitudeIndex?: MderFloat; deviceClockNotSet: boolean;
}
/** An SpO2 (%) and pulse rate (/min) pair. */
export interface SpO2Pr { spo2: MderFloat; pulseRate: MderFloat }
/** PLX Continuous Measurement 0x2A5F. */
export interface PlxContinuous { normal: SpO2Pr; fast?: SpO2Pr; slow?: SpO2Pr; status: StatusFlag[]; pulseAmplitudeIndex?: MderFloat }
/** PLX Features 0x2A60. */
export interface PlxFeatures {
  measurementStatusSupported: boolean; deviceAndSensorStatusSupported: boolean; measurementStorageSupported: boolean;
  timeStampSupported: boolean; spo2prFastSupported: boolean; spo2prSlowSupported: boolean;
  pulseAmplitudeIndexSupported: boolean; multipleBondsSupported: boolean;
  supportedMeasurementStatus: StatusFlag[]; supportedDeviceAndSensorStatus: StatusFlag[];
}
/** PnP ID 0x2A50. */
export interface PnpId {
  vendorIdSource: "bluetoothSig" | "usbImplementersForum"; vendorId: number; productId: number; productVersion: number;
}

/** What `parseMeasurement` returns: the parsed value of one characteristic. */
export type Measurement =
  | { kind: "heartRate"; value: HeartRateMeasurement }
  | { kind: "bloodPressure"; value: BloodPressureMeasurement }
  | { kind: "intermediateCuffPressure"; value: IntermediateCuffPressure }
  | { kind: "temperature"; value: TemperatureMeasurement }
  | { kind: "temperatureType"; value: TemperatureType }
  | { kind: "weight"; value: WeightMeasurement }
  | { kind: "weightScaleFeature"; value: WeightScaleFeature }
  | { kind: "glucose"; value: GlucoseMeasurement }
  | { kind: "glucoseContext"; value: GlucoseContext }
  | { kind: "racpResponse"; value: RacpResponse }
  | { kind: "plxSpotCheck"; value: PlxSpotCheck }
  | { kind: "plxContinuous"; value: PlxContinuous }
  | { kind: "plxFeatures"; value: PlxFeatures }
  | { kind: "batteryLevel"; value: number }
  | { kind: "dateTime"; value: DeviceDateTime }
  | { kind: "manufacturerName"; value: string }
  | { kind: "modelNumber"; value: string }
  | { kind: "serialNumber"; value: string }
  | { kind: "hardwareRevision"; value: string }
  | { kind: "firmwareRevision"; value: string }
  | { kind: "softwareRevision"; value: string }
  | { kind: "systemId"; value: string }
  | { kind: "pnpId"; value: PnpId };

/** The characteristics the SDK understands, by name. */
export type CharacteristicName =
  | "heartRateMeasurement" | "bloodPressureMeasurement" | "intermediateCuffPressure" | "temperatureMeasurement"
  | "temperatureType" | "weightMeasurement" | "weightScaleFeature" | "glucoseMeasurement"
  | "glucoseMeasurementContext" | "recordAccessControlPoint" | "plxSpotCheckMeasurement"
  | "plxContinuousMeasurement" | "plxFeatures" | "batteryLevel" | "dateTime" | "manufacturerNameString"
  | "modelNumberString" | "serialNumberString" | "hardwareRevisionString" | "firmwareRevisionString"
  | "softwareRevisionString" | "systemId" | "pnpId";

/** Who measured. `id` is Web Bluetooth's per-origin `BluetoothDevice.id` or the bridge's id. */
export interface DeviceIdentity {
  id: string;
  /** The EUI-64 from System ID 0x2A23, e.g. `"FE-ED-AB-EE-DE-AD-77-C3"`. */
  systemId?: string;
  pnpId?: PnpId;
}

/** Everything needed to rebuild a reading exactly, with the same parsers: the receiving side
 * of a share, and `measurementToFhir`, recompute the reading from this (and check its id)
 * rather than trust the parsed fields. JSON-safe: store or send it as is. */
export interface ReadingRaw {
  /** The 16-bit characteristic UUID. */
  uuid: number;
  /** The characteristic value, base64. */
  value: string;
  deviceId: string;
  /** EUI-64, as in `DeviceIdentity.systemId`. */
  systemId?: string;
  /** The PnP ID value, base64. */
  pnpId?: string;
  /** ms since the Unix epoch. */
  receivedAt: number;
  /** The device clock's UTC offset; absent when unknown. */
  utcOffsetMinutes?: number;
  /** The Weight Scale Feature field (u32), when read. */
  weightScaleFeature?: number;
  /** The Glucose Measurement Context value that followed, base64. */
  glucoseContext?: string;
}

/** A validated measurement with provenance (docs/DEVICES.md, "The reading object"). */
export interface Reading {
  /** Stable de-duplication id: 32 hex digits. */
  id: string;
  characteristic: CharacteristicName;
  measurement: Measurement;
  device: DeviceIdentity;
  /** ms since the Unix epoch. */
  receivedAt: number;
  deviceTimestamp?: {
    dateTime: DeviceDateTime;
    timeOffsetMinutes?: number;
    trusted: boolean;
    untrustedReason?: "incomplete" | "clockNotSet" | "timeFault" | "noUtcOffset" | "inFuture" | "tooOld";
  };
  /** When measured, ms since the Unix epoch. */
  effectiveTime: number;
  effectiveTimeSource: "device" | "received";
  /** The UTC offset to show `effectiveTime` in. */
  utcOffsetMinutes: number;
  sequenceNumber?: number;
  flags: StatusFlag[];
  warnings: ReadingWarning[];
  /** False for demonstration, testing and control-solution data: never present it as the patient's. */
  patientData: boolean;
  glucoseContext?: GlucoseContext;
  raw: ReadingRaw;
}

/** Options of `captureReading`. */
export interface CaptureOptions {
  /** The host's id for the device (`BluetoothDevice.id`, or the native plugin's id). */
  deviceId: string;
  /** System ID 0x2A23: its 8-byte value, or the EUI-64 string (`"FE-ED-…"`). */
  systemId?: BytesLike;
  /** PnP ID 0x2A50: its 7-byte value. */
  pnpId?: BytesLike;
  /** The device clock's UTC offset in minutes east of UTC; default: this host's current
   * offset; `null`: unknown (no device timestamp is then trusted). */
  utcOffsetMinutes?: number | null;
  /** Weight Scale Feature 0x2A9E: its 4-byte value or the u32 field. */
  weightScaleFeature?: BytesLike | number;
  /** Glucose Measurement Context 0x2A34 that followed this glucose record. */
  glucoseContext?: BytesLike;
  /** When the value arrived, ms since the Unix epoch; default `Date.now()`. */
  now?: number;
}

/** Where the FHIR Observations point. */
export interface FhirOptions {
  /** The patient, e.g. `"Patient/123"` or a `urn:uuid:` inside a transaction. */
  subject: string;
  /** The PHD's Device reference. Default: `"Device/phd-<16 hex digits>"`, from the EUI-64
   * System ID when the device has one, else from a hash of the device id. */
  device?: string;
  /** This app's host as the PHD IG's gateway Device. */
  gatewayDevice?: string;
}

export interface FhirCoding { system: string; code: string; display?: string }
export interface FhirCodeableConcept { coding: FhirCoding[]; text?: string }
export interface FhirReference { reference: string }
export interface FhirQuantity { value: number; unit: string; system: "http://unitsofmeasure.org"; code: string }
/** A FHIR R4 Observation following the HL7 PHD IG (docs/DEVICES.md, "FHIR mapping"). */
export interface Observation {
  resourceType: "Observation";
  meta?: { security: FhirCoding[] };
  extension?: { url: string; valueReference: FhirReference }[];
  /** `[{ value: "<reading id>-<MDC code>" }]`: upload with `If-None-Exist: identifier=<value>`. */
  identifier: { value: string }[];
  status: "final" | "preliminary";
  category: FhirCodeableConcept[];
  code: FhirCodeableConcept;
  subject: FhirReference;
  effectiveDateTime: string;
  valueQuantity?: FhirQuantity;
  dataAbsentReason?: FhirCodeableConcept;
  note?: { text: string }[];
  device: FhirReference;
  component?: { code: FhirCodeableConcept; valueQuantity?: FhirQuantity; dataAbsentReason?: FhirCodeableConcept }[];
}

/** The error thrown for bad device bytes (`code` `MalformedMeasurement`). */
export interface MalformedMeasurementError extends TeleconsultError {
  code: "MalformedMeasurement";
  /** The parser's reason. */
  reason: "truncated" | "trailingBytes" | "reserved" | "invalid";
  /** The characteristic whose value was rejected. */
  characteristic?: CharacteristicName;
  /** The rejected field, e.g. `"rrInterval"`, `"timestamp.month"`. */
  field?: string;
}

/** The `detail` of a `reading` event. */
export interface ReadingEventDetail {
  reading: Reading;
  /** Present when the source was given `fhir` options. */
  observations?: Observation[];
}

/** Device information read for provenance (Device Information and Battery services). */
export interface DeviceInfo {
  id: string;
  name?: string;
  manufacturer?: string;
  model?: string;
  serialNumber?: string;
  hardwareRevision?: string;
  firmwareRevision?: string;
  softwareRevision?: string;
  /** EUI-64. */
  systemId?: string;
  pnpId?: PnpId;
  batteryLevel?: number;
  weightScaleFeature?: WeightScaleFeature;
}

/** A value a native host app hands to `DeviceBridge.push`. */
export interface BridgedValue {
  /** The plugin's device id (stable per device on that host). */
  deviceId: string;
  /** The service UUID, as the plugin reports it (checked to be a UUID; informational). */
  service?: BluetoothUuid;
  characteristic: BluetoothUuid;
  value: BytesLike;
  /** When the host received it, ms since the Unix epoch; default `Date.now()`. */
  receivedAt?: number;
}

/** Options of `new DeviceBridge()` and `new DeviceSession()`. */
export interface DeviceSourceOptions {
  /** Attach FHIR Observations to every `reading` event. */
  fhir?: FhirOptions;
  /** The device clocks' UTC offset; default: this host's current offset at each reading. */
  utcOffsetMinutes?: number | null;
}

/** Events of `DeviceBridge`. */
export interface DeviceBridgeEventMap {
  reading: ReadingEventDetail;
  /** Device information, battery level or weight scale features arrived. */
  deviceinfo: { device: DeviceInfo };
  /** A Record Access Control Point indication arrived. */
  racp: { deviceId: string; response: RacpResponse };
}

/** Device kinds `DeviceSession.requestDevice` can filter on. */
export type DeviceKind = "heart-rate" | "blood-pressure" | "thermometer" | "weight-scale" | "glucose" | "pulse-oximeter";

/** What to offer in the browser's device chooser: by kind, or by service UUIDs. */
export type RequestDeviceOptions = { kinds: DeviceKind[] } | { services: BluetoothUuid[] };

/** Options of `new DeviceSession()`. */
export interface DeviceSessionOptions extends DeviceSourceOptions {
  /** Reconnect after the device drops the link (default true), with exponential backoff. */
  reconnect?: boolean;
}

/** Events of `DeviceSession`. */
export interface DeviceSessionEventMap extends DeviceBridgeEventMap {
  /** Connected (first time or again) and subscribed to every supported measurement. */
  connected: { device: DeviceInfo; reconnected: boolean };
  /** The link dropped; `reconnecting` follows unless reconnection is off or the session closed. */
  disconnected: { deviceId: string };
  reconnecting: { deviceId: string; attempt: number; delayMs: number };
  /** A stored-record download advanced. */
  recordprogress: { deviceId: string; received: number; total?: number };
  /** A device sent a value that was rejected (the reading is dropped), or a step failed. */
  error: { deviceId?: string; code: ErrorCode; message: string; reason?: string; field?: string };
}

/** Which stored glucose records to download. */
export interface DownloadRecordsOptions {
  /** Only records with this sequence number or higher; default: all. */
  since?: number;
  /** Give up when the meter is silent this long, ms; default 30000. */
  timeoutMs?: number;
}

/** Anything that dispatches `reading` events: `DeviceSession`, `DeviceBridge`. */
export interface ReadingSource {
  addEventListener(type: "reading", listener: (event: CustomEvent<ReadingEventDetail>) => void): void;
  removeEventListener(type: "reading", listener: (event: CustomEvent<ReadingEventDetail>) => void): void;
}

/** Options of `ReadingShare`. */
export interface ReadingShareOptions {
  /** The consent enforcement point: called before each reading is queued; return false to
   * withhold it (it is never sent; a `withheld` event says so). A throwing hook withholds. */
  allow?: (reading: Reading) => boolean;
  /** Most readings kept waiting for delivery (default 1000); more are refused with an
   * `error` event (`LimitExceeded`). */
  maxPending?: number;
}
/** Events of `ReadingShare`. */
export interface ReadingShareEventMap {
  /** The receiver acknowledged the reading. */
  delivered: { id: string };
  /** `allow` refused the reading; it was not sent. */
  withheld: { id: string };
  error: { id?: string; code: ErrorCode; message: string };
}

/** Options of `ReadingReceiver`. */
export interface ReadingReceiverOptions {
  /** Attach FHIR Observations to every `reading` event. */
  fhir?: FhirOptions;
  /** Receiving-side consent check: return false to drop a reading (it is still acknowledged,
   * so the sender stops re-sending it). */
  allow?: (reading: Reading, participantId: string) => boolean;
}
/** Events of `ReadingReceiver`. */
export interface ReadingReceiverEventMap {
  /** A reading from a participant, rebuilt from its raw value with the same parsers, once per id. */
  reading: ReadingEventDetail & { participantId: string };
  /** A reading envelope was rejected (malformed, or its id did not match its raw value). */
  error: { participantId: string; code: ErrorCode; message: string };
}
