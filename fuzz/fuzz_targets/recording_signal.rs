#![no_main]
//! Arbitrary app-data bytes into the recording indicator decoder: no panic, and whatever
//! decodes re-encodes to the same bytes.
use libfuzzer_sys::fuzz_target;
use teleconsult::consent::RecordingSignal;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = RecordingSignal::decode(data) {
        assert!(RecordingSignal::is_recording(data));
        assert_eq!(s.encode(), data);
    }
});
