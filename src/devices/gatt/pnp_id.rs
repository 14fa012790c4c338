//! PnP ID (0x2A50): vendor id source (u8: 1 Bluetooth SIG, 2 USB Implementers Forum; others
//! reserved), vendor id (u16), product id (u16), product version (u16).
//!
//! A reserved vendor id source is rejected (`Reserved`): without its namespace the vendor id
//! identifies nothing, and a PnP ID exists only to identify the device.

use serde::Serialize;

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// Who assigned the vendor id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum VendorIdSource {
    /// A Bluetooth SIG company identifier.
    BluetoothSig,
    /// A USB Implementers Forum vendor id.
    UsbImplementersForum,
}

/// Vendor, product and version of a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PnpId {
    /// Who assigned `vendor_id`.
    pub vendor_id_source: VendorIdSource,
    /// The vendor.
    pub vendor_id: u16,
    /// The vendor's product id.
    pub product_id: u16,
    /// The product version (0xJJMN: major, minor, sub-minor).
    pub product_version: u16,
}

/// Parses a PnP ID: exactly seven bytes.
pub fn parse(bytes: &[u8]) -> Result<PnpId, ParseError> {
    let mut r = Reader::new(Characteristic::PnpId, bytes);
    let vendor_id_source = match r.u8("vendorIdSource")? {
        1 => VendorIdSource::BluetoothSig,
        2 => VendorIdSource::UsbImplementersForum,
        _ => return Err(r.reserved("vendorIdSource")),
    };
    let id = PnpId {
        vendor_id_source,
        vendor_id: r.u16("vendorId")?,
        product_id: r.u16("productId")?,
        product_version: r.u16("productVersion")?,
    };
    r.finish()?;
    Ok(id)
}
