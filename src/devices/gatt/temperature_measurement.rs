//! Temperature Measurement (0x2A1C), indicated by health thermometers.
//!
//! Flags (u8): bit 0 Fahrenheit (else Celsius); bit 1 time stamp; bit 2 temperature type;
//! bits 3–7 reserved (ignored). Then the temperature (FLOAT), the optional Date Time and the
//! optional Temperature Type byte. A reserved temperature type (0, 10–255) reads as no type:
//! the site is unknown, the temperature stands.

use serde::Serialize;

use crate::devices::gatt::date_time::{DateTime, TIMESTAMP};
use crate::devices::gatt::temperature_type::TemperatureType;
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// The temperature unit (flags bit 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TemperatureUnit {
    /// Degrees Celsius.
    Celsius,
    /// Degrees Fahrenheit.
    Fahrenheit,
}

/// One thermometer result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemperatureMeasurement {
    /// The unit of `temperature`.
    pub unit: TemperatureUnit,
    /// The temperature.
    pub temperature: MderFloat,
    /// Device wall-clock time of the measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime>,
    /// Measurement site, when the value carries it (a reserved code reads as `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature_type: Option<TemperatureType>,
}

/// Parses a Temperature Measurement.
pub fn parse(bytes: &[u8]) -> Result<TemperatureMeasurement, ParseError> {
    let mut r = Reader::new(Characteristic::TemperatureMeasurement, bytes);
    let flags = r.u8("flags")?;
    // Flag bits 3–7 are reserved for future use: ignored (see the module docs of `gatt`).
    let unit = if flags & 0x01 != 0 {
        TemperatureUnit::Fahrenheit
    } else {
        TemperatureUnit::Celsius
    };
    let temperature = r.float("temperature")?;
    let timestamp = if flags & 0x02 != 0 {
        Some(DateTime::read(&mut r, &TIMESTAMP)?)
    } else {
        None
    };
    let temperature_type = if flags & 0x04 != 0 {
        TemperatureType::from_code(r.u8("temperatureType")?)
    } else {
        None
    };
    r.finish()?;
    Ok(TemperatureMeasurement {
        unit,
        temperature,
        timestamp,
        temperature_type,
    })
}
