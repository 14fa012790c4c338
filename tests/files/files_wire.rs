//! The file frames: every kind round-trips, and malformed bytes are typed errors.

use crate::*;
use teleconsult::files::*;

fn offer() -> Offer {
    Offer {
        file_type: FileType::Png,
        size: 40_000,
        sha256: [7; 32],
        sent_at: T0,
        name: "wound – day 3.png".into(),
    }
}

fn all_kinds() -> Vec<Frame> {
    vec![
        Frame::Offer {
            id: ID,
            offer: offer(),
        },
        Frame::Chunk {
            id: ID,
            index: 2,
            data: vec![1; CHUNK_LEN],
        },
        Frame::Ack { id: ID, next: 8 },
        Frame::Complete { id: ID },
        Frame::Cancel {
            id: ID,
            reason: CancelReason::HashMismatch,
        },
    ]
}

#[test]
fn every_frame_kind_round_trips() {
    for f in all_kinds() {
        let bytes = f.encode();
        assert!(Frame::is_file(&bytes));
        assert_eq!(bytes[0], TAG_FILES);
        assert!(bytes.len() <= MAX_FRAME_LEN);
        assert_eq!(Frame::decode(&bytes), Ok(f));
    }
}

#[test]
fn the_offer_layout_is_the_documented_one() {
    let bytes = Frame::Offer {
        id: TransferId(1),
        offer: Offer {
            name: "a".into(),
            ..offer()
        },
    }
    .encode();
    let mut expected = vec![0xC7, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0x9c, 0x40];
    expected.extend_from_slice(&[7; 32]);
    expected.extend_from_slice(&T0.to_be_bytes());
    expected.extend_from_slice(&[1, b'a']);
    assert_eq!(bytes, expected);
}

#[test]
fn a_chunk_frame_fits_the_sessions_app_data_limit() {
    const { assert!(MAX_FRAME_LEN <= teleconsult::signaling::MAX_APP_DATA_LEN) };
}

#[test]
fn malformed_frames_are_typed_errors() {
    let good = Frame::Offer {
        id: ID,
        offer: offer(),
    }
    .encode();
    let mut wrong_version = good.clone();
    wrong_version[1] = 2;
    let mut unknown_kind = good.clone();
    unknown_kind[2] = 9;
    let mut trailing = Frame::Ack { id: ID, next: 1 }.encode();
    trailing.push(0);
    let mut bad_type = good.clone();
    bad_type[11] = 5; // not on the allow-list (e.g. an executable)
    let size_at = 12;
    let mut zero = good.clone();
    zero[size_at..size_at + 4].copy_from_slice(&0u32.to_be_bytes());
    let mut huge = good.clone();
    huge[size_at..size_at + 4].copy_from_slice(&(MAX_FILE_LEN as u32 + 1).to_be_bytes());
    let mut late = good.clone();
    late[48..56].copy_from_slice(&(MAX_TIME + 1).to_be_bytes());
    let mut cancel = Frame::Cancel {
        id: ID,
        reason: CancelReason::Cancelled,
    }
    .encode();
    *cancel.last_mut().unwrap() = 0;
    let name = |n: &[u8]| {
        let mut v = good[..56].to_vec();
        v.push(n.len() as u8);
        v.extend_from_slice(n);
        v
    };
    let cases: Vec<(Vec<u8>, FileError)> = vec![
        (vec![], FileError::Malformed("file frame: truncated")),
        (vec![0xC6, 1, 1], FileError::Malformed("not a file frame")),
        (wrong_version, FileError::UnsupportedVersion(2)),
        (
            unknown_kind,
            FileError::Malformed("file frame: unknown kind"),
        ),
        (trailing, FileError::Malformed("file frame: trailing bytes")),
        (
            good[..30].to_vec(),
            FileError::Malformed("file frame: truncated"),
        ),
        (bad_type, FileError::TypeNotAllowed),
        (zero, FileError::Empty),
        (huge, FileError::TooLarge),
        (late, FileError::Malformed("file offer: time after 9999")),
        (cancel, FileError::Malformed("file cancel: unknown reason")),
        (vec![0xC7; MAX_FRAME_LEN + 1], FileError::TooLarge),
        (
            Frame::Chunk {
                id: ID,
                index: 0,
                data: vec![],
            }
            .encode(),
            FileError::Truncated,
        ),
        (name(b""), FileError::BadName),
        (name(b"../../etc/passwd"), FileError::BadName),
        (name(b"a\\b.png"), FileError::BadName),
        (name(b"bell\x07.png"), FileError::BadName),
        (name(b"\xff\xfe.png"), FileError::BadName),
        (name(b".."), FileError::BadName),
    ];
    for (bytes, e) in cases {
        assert_eq!(Frame::decode(&bytes), Err(e), "{bytes:02x?}");
    }
}

#[test]
fn the_allow_list_checks_magic_bytes() {
    assert_eq!(FileType::from_mime("image/jpeg"), Some(FileType::Jpeg));
    assert_eq!(FileType::from_mime("application/pdf"), Some(FileType::Pdf));
    for refused in [
        "image/svg+xml",
        "text/html",
        "application/octet-stream",
        "IMAGE/JPEG",
        "image/gif",
        "",
    ] {
        assert_eq!(FileType::from_mime(refused), None, "{refused}");
    }
    assert!(FileType::Jpeg.matches(&jpeg(10)));
    assert!(FileType::Png.matches(b"\x89PNG\r\n\x1a\n...."));
    assert!(FileType::Webp.matches(b"RIFF\x10\0\0\0WEBPVP8 "));
    assert!(FileType::Pdf.matches(&pdf(10)));
    assert!(!FileType::Webp.matches(b"RIFF\x10\0\0\0WAVEfmt "));
    assert!(!FileType::Png.matches(&jpeg(10)));
    assert!(!FileType::Jpeg.matches(b"MZ\x90\0"));
    assert!(!FileType::Pdf.matches(b"<html>"));
    for t in FileType::ALL {
        assert!(t.magic_len() > 0);
        assert_eq!(FileType::from_mime(t.mime()), Some(t));
    }
}

#[test]
fn error_codes_are_stable() {
    use teleconsult::ErrorCode;
    let cases = [
        (FileError::TooLarge, ErrorCode::LimitExceeded, "tooLarge"),
        (
            FileError::TypeNotAllowed,
            ErrorCode::InvalidArgument,
            "typeNotAllowed",
        ),
        (FileError::Truncated, ErrorCode::Malformed, "truncated"),
        (
            FileError::HashMismatch,
            ErrorCode::Malformed,
            "hashMismatch",
        ),
        (FileError::Replayed, ErrorCode::Replayed, "replayed"),
        (
            FileError::NotAdmitted,
            ErrorCode::ProtocolViolation,
            "notAdmitted",
        ),
        (FileError::Busy, ErrorCode::LimitExceeded, "busy"),
        (
            FileError::NotConsented(teleconsult::consent::Reason::NoGrant),
            ErrorCode::ConsentDenied,
            "notConsented",
        ),
    ];
    for (e, code, reason) in cases {
        assert_eq!(e.code(), code);
        assert_eq!(e.reason(), reason);
        assert_eq!(teleconsult::Error::from(e).code(), code);
    }
}
