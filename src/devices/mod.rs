//! Bluetooth SIG health characteristic parsers, validated readings and their FHIR form.
