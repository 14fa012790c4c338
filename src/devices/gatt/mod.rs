//! One module per characteristic, each following its Bluetooth SIG definition.
//!
//! Every `parse` takes the raw characteristic value and either returns plain data or a
//! [`ParseError`](super::ParseError) naming the field. The policy, applied alike everywhere:
//!
//! - a field the flags announce but the payload lacks: `Truncated`;
//! - bytes after the last announced field (where the specification allows none): `TrailingBytes`;
//! - bits and fields *reserved for future use* are ignored, never a reason to reject: reserved
//!   flag bits, reserved bits of status and feature bitfields, the Glucose Measurement
//!   Context's extended flags. The Bluetooth Core Specification (Vol 1, Part E, "Reserved for
//!   Future Use") requires it: the sender sets them to zero, the receiver ignores them and
//!   "shall not reject the structure because of the value of the field". A reserved flag bit
//!   announces nothing (a bit that did would not be reserved), so the layout is what the
//!   defined bits say, and bytes beyond it are still `TrailingBytes`;
//! - a reserved *value* of an enumerated field, decided per field (the same section says a
//!   receiver *should* reject such a value, unless the context says to ignore it): where the
//!   value only describes a reading, it reads as unknown and the reading stands (temperature
//!   site → none, glucose sample location and context tester/health → `notAvailable`, meal →
//!   none, carbohydrate / medication entry → dropped, blood-pressure pulse-rate range 3 → no
//!   range flag, weight/height resolution → not specified); where the value *is* the whole
//!   value or decides what the reading is, it is `Reserved` (Temperature Type 0x2A1D on its
//!   own, glucose sample type, PnP ID vendor id source, battery level above 100, RACP
//!   response code);
//! - a value outside the allowed range (month 13, invalid UTF-8): `Invalid`;
//! - SFLOAT/FLOAT special values are kept as [`MderFloat`](super::MderFloat) variants.

pub mod battery_level;
pub mod blood_pressure;
pub mod date_time;
pub mod device_information;
pub mod glucose_context;
pub mod glucose_measurement;
pub mod heart_rate;
pub mod intermediate_cuff_pressure;
pub mod plx_continuous;
pub mod plx_features;
pub mod plx_spot_check;
pub mod pnp_id;
pub mod racp;
pub mod system_id;
pub mod temperature_measurement;
pub mod temperature_type;
pub mod weight_measurement;
pub mod weight_scale_feature;

use serde::{Serialize, Serializer};

/// A named status condition a device reported, from any characteristic's status bits (and a
/// few derived conditions). JavaScript sees the camelCase name, e.g. `"irregularPulse"`.
///
/// Demonstration, testing and control-solution data are *not patient data*: a
/// [`Reading`](super::Reading) carrying them says so and its FHIR form is labelled `HTEST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StatusFlag {
    // Blood pressure measurement status.
    /// Body movement during the measurement.
    BodyMovement,
    /// The cuff fits too loosely.
    CuffTooLoose,
    /// Irregular pulse detected.
    IrregularPulse,
    /// Pulse rate above the device's upper limit.
    PulseRateAboveRange,
    /// Pulse rate below the device's lower limit.
    PulseRateBelowRange,
    /// Improper measurement position.
    ImproperPosition,
    // Glucose sensor status annunciation.
    /// Device battery low at the time of measurement.
    DeviceBatteryLow,
    /// Sensor malfunction or faulting (glucose), sensor malfunctioning (oximeter).
    SensorMalfunction,
    /// Sample size insufficient.
    SampleSizeInsufficient,
    /// Strip insertion error.
    StripInsertionError,
    /// Strip type incorrect for the device.
    StripTypeIncorrect,
    /// Result higher than the device can process.
    ResultAboveDeviceRange,
    /// Result lower than the device can process.
    ResultBelowDeviceRange,
    /// Sensor temperature too high for a valid test.
    SensorTemperatureTooHigh,
    /// Sensor temperature too low for a valid test.
    SensorTemperatureTooLow,
    /// Read interrupted because the strip was pulled too soon.
    StripPulledTooSoon,
    /// General device fault.
    GeneralDeviceFault,
    /// Time fault.
    TimeFault,
    /// Glucose sample type or location is control solution: a meter check, not the patient.
    ControlSolution,
    // Pulse oximeter measurement status.
    /// Measurement ongoing.
    MeasurementOngoing,
    /// Early estimated data.
    EarlyEstimatedData,
    /// Validated data.
    ValidatedData,
    /// Fully qualified data.
    FullyQualifiedData,
    /// Data from measurement storage.
    DataFromStorage,
    /// Data for demonstration: not patient data.
    DemonstrationData,
    /// Data for testing: not patient data.
    TestingData,
    /// Calibration ongoing.
    CalibrationOngoing,
    /// Measurement unavailable.
    MeasurementUnavailable,
    /// Questionable measurement detected.
    QuestionableMeasurement,
    /// Invalid measurement detected.
    InvalidMeasurement,
    // Pulse oximeter device and sensor status.
    /// Extended display update ongoing.
    ExtendedDisplayUpdateOngoing,
    /// Equipment malfunction detected.
    EquipmentMalfunction,
    /// Signal processing irregularity detected.
    SignalProcessingIrregularity,
    /// Inadequate signal detected.
    InadequateSignal,
    /// Poor signal detected.
    PoorSignal,
    /// Low perfusion detected.
    LowPerfusion,
    /// Erratic signal detected.
    ErraticSignal,
    /// Non-pulsatile signal detected.
    NonpulsatileSignal,
    /// Questionable pulse detected.
    QuestionablePulse,
    /// Signal analysis ongoing.
    SignalAnalysisOngoing,
    /// Sensor interference detected.
    SensorInterference,
    /// Sensor unconnected to the user.
    SensorUnconnectedToUser,
    /// Unknown sensor connected.
    UnknownSensorConnected,
    /// Sensor displaced.
    SensorDisplaced,
    /// Sensor disconnected.
    SensorDisconnected,
    // Derived.
    /// Heart rate sensor reports no skin contact.
    NoSensorContact,
    /// The device says its clock is not set (PLX flag): its time stamps are not used.
    DeviceClockNotSet,
}

impl StatusFlag {
    /// The camelCase name JavaScript sees.
    pub const fn name(self) -> &'static str {
        use StatusFlag as F;
        match self {
            F::BodyMovement => "bodyMovement",
            F::CuffTooLoose => "cuffTooLoose",
            F::IrregularPulse => "irregularPulse",
            F::PulseRateAboveRange => "pulseRateAboveRange",
            F::PulseRateBelowRange => "pulseRateBelowRange",
            F::ImproperPosition => "improperPosition",
            F::DeviceBatteryLow => "deviceBatteryLow",
            F::SensorMalfunction => "sensorMalfunction",
            F::SampleSizeInsufficient => "sampleSizeInsufficient",
            F::StripInsertionError => "stripInsertionError",
            F::StripTypeIncorrect => "stripTypeIncorrect",
            F::ResultAboveDeviceRange => "resultAboveDeviceRange",
            F::ResultBelowDeviceRange => "resultBelowDeviceRange",
            F::SensorTemperatureTooHigh => "sensorTemperatureTooHigh",
            F::SensorTemperatureTooLow => "sensorTemperatureTooLow",
            F::StripPulledTooSoon => "stripPulledTooSoon",
            F::GeneralDeviceFault => "generalDeviceFault",
            F::TimeFault => "timeFault",
            F::ControlSolution => "controlSolution",
            F::MeasurementOngoing => "measurementOngoing",
            F::EarlyEstimatedData => "earlyEstimatedData",
            F::ValidatedData => "validatedData",
            F::FullyQualifiedData => "fullyQualifiedData",
            F::DataFromStorage => "dataFromStorage",
            F::DemonstrationData => "demonstrationData",
            F::TestingData => "testingData",
            F::CalibrationOngoing => "calibrationOngoing",
            F::MeasurementUnavailable => "measurementUnavailable",
            F::QuestionableMeasurement => "questionableMeasurement",
            F::InvalidMeasurement => "invalidMeasurement",
            F::ExtendedDisplayUpdateOngoing => "extendedDisplayUpdateOngoing",
            F::EquipmentMalfunction => "equipmentMalfunction",
            F::SignalProcessingIrregularity => "signalProcessingIrregularity",
            F::InadequateSignal => "inadequateSignal",
            F::PoorSignal => "poorSignal",
            F::LowPerfusion => "lowPerfusion",
            F::ErraticSignal => "erraticSignal",
            F::NonpulsatileSignal => "nonpulsatileSignal",
            F::QuestionablePulse => "questionablePulse",
            F::SignalAnalysisOngoing => "signalAnalysisOngoing",
            F::SensorInterference => "sensorInterference",
            F::SensorUnconnectedToUser => "sensorUnconnectedToUser",
            F::UnknownSensorConnected => "unknownSensorConnected",
            F::SensorDisplaced => "sensorDisplaced",
            F::SensorDisconnected => "sensorDisconnected",
            F::NoSensorContact => "noSensorContact",
            F::DeviceClockNotSet => "deviceClockNotSet",
        }
    }

    /// Whether this flag means the data is not the patient's (demonstration, testing or
    /// control solution).
    pub const fn is_not_patient_data(self) -> bool {
        matches!(
            self,
            Self::DemonstrationData | Self::TestingData | Self::ControlSolution
        )
    }
}

impl Serialize for StatusFlag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The flags whose bit (index in `table`) is set in `bits`.
pub(crate) fn flags_from_bits(bits: u32, table: &[Option<StatusFlag>]) -> Vec<StatusFlag> {
    table
        .iter()
        .enumerate()
        .filter_map(
            |(i, f)| match (f, u32::try_from(i).ok().and_then(|i| bits.checked_shr(i))) {
                (Some(f), Some(b)) if b & 1 != 0 => Some(*f),
                _ => None,
            },
        )
        .collect()
}
