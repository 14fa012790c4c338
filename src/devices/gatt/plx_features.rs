//! PLX Features (0x2A60): what a pulse oximeter supports.
//!
//! Supported Features (u16): bit 0 measurement status supported; bit 1 device and sensor
//! status supported; bit 2 spot-check measurement storage; bit 3 spot-check time stamp;
//! bit 4 SpO2PR-Fast; bit 5 SpO2PR-Slow; bit 6 pulse amplitude index; bit 7 multiple bonds;
//! bits 8–15 reserved (ignored). Then Measurement Status Support (u16) if bit 0, and Device
//! and Sensor Status Support (u24) if bit 1.

use serde::Serialize;

use crate::devices::gatt::StatusFlag;
use crate::devices::gatt::flags_from_bits;
use crate::devices::gatt::plx_spot_check::{DEVICE_STATUS_BITS, MEASUREMENT_STATUS_BITS};
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// A pulse oximeter's features.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlxFeatures {
    /// Measurements can carry a measurement status.
    pub measurement_status_supported: bool,
    /// Measurements can carry a device and sensor status.
    pub device_and_sensor_status_supported: bool,
    /// Spot-check results are stored on the device.
    pub measurement_storage_supported: bool,
    /// Spot-check results carry a time stamp.
    pub time_stamp_supported: bool,
    /// Continuous measurements carry SpO2PR-Fast.
    pub spo2pr_fast_supported: bool,
    /// Continuous measurements carry SpO2PR-Slow.
    pub spo2pr_slow_supported: bool,
    /// Measurements carry a pulse amplitude index.
    pub pulse_amplitude_index_supported: bool,
    /// The device bonds with more than one collector.
    pub multiple_bonds_supported: bool,
    /// The measurement-status flags the device can report.
    pub supported_measurement_status: Vec<StatusFlag>,
    /// The device/sensor-status flags the device can report.
    pub supported_device_and_sensor_status: Vec<StatusFlag>,
}

/// Parses PLX Features.
pub fn parse(bytes: &[u8]) -> Result<PlxFeatures, ParseError> {
    let mut r = Reader::new(Characteristic::PlxFeatures, bytes);
    let f = r.u16("supportedFeatures")?;
    let supported_measurement_status = if f & 0x01 != 0 {
        flags_from_bits(
            r.u16("measurementStatusSupport")?.into(),
            &MEASUREMENT_STATUS_BITS,
        )
    } else {
        Vec::new()
    };
    let supported_device_and_sensor_status = if f & 0x02 != 0 {
        flags_from_bits(r.u24("deviceAndSensorStatusSupport")?, &DEVICE_STATUS_BITS)
    } else {
        Vec::new()
    };
    r.finish()?;
    let bit = |n: u16| f & (1 << n) != 0;
    Ok(PlxFeatures {
        measurement_status_supported: bit(0),
        device_and_sensor_status_supported: bit(1),
        measurement_storage_supported: bit(2),
        time_stamp_supported: bit(3),
        spo2pr_fast_supported: bit(4),
        spo2pr_slow_supported: bit(5),
        pulse_amplitude_index_supported: bit(6),
        multiple_bonds_supported: bit(7),
        supported_measurement_status,
        supported_device_and_sensor_status,
    })
}
