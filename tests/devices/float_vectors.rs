//! IEEE 11073-20601 SFLOAT and FLOAT: every special value, the PHD IG's encoding examples,
//! sign extension of both fields and the range edges.

#![allow(
    clippy::unwrap_used,
    reason = "tests unwrap: a panic is the failure report"
)]

use teleconsult::devices::{Decimal, MderFloat};

const fn v(mantissa: i32, exponent: i16) -> MderFloat {
    MderFloat::Value(Decimal::new(mantissa, exponent))
}

/// (raw, decoded)
const SFLOAT: &[(u16, MderFloat)] = &[
    // The PHD IG's table.
    (0x0002, v(2, 0)),
    (0xF014, v(20, -1)),
    (0xE0C8, v(200, -2)),
    (0x1002, v(2, 1)),
    (0x2002, v(2, 2)),
    (0x00C8, v(200, 0)),
    (0x04D2, v(1234, 0)),
    (0x0B2E, v(-1234, 0)),
    // Special values: exponent 0 and these mantissas only.
    (0x07FF, MderFloat::NaN),
    (0x0800, MderFloat::NRes),
    (0x07FE, MderFloat::PositiveInfinity),
    (0x0802, MderFloat::NegativeInfinity),
    (0x0801, MderFloat::Reserved),
    // Largest and smallest regular mantissas next to the specials.
    (0x07FD, v(2045, 0)),
    (0x0803, v(-2045, 0)),
    // The same mantissas with another exponent are numbers.
    (0x17FF, v(2047, 1)),
    (0xF800, v(-2048, -1)),
    // Exponent extremes: +7 and -8 (two's complement, not biased).
    (0x7001, v(1, 7)),
    (0x8001, v(1, -8)),
    (0x0000, v(0, 0)),
    (0xFFFF, v(-1, -1)),
    // Typical readings: 36.7, 72, 0.00095 (glucose kg/L, exponent -5).
    (0xF16F, v(367, -1)),
    (0x0048, v(72, 0)),
    (0xB05F, v(95, -5)),
];

const FLOAT: &[(u32, MderFloat)] = &[
    (0x0000_0002, v(2, 0)),
    (0xFF00_0014, v(20, -1)),
    (0xFE00_00C8, v(200, -2)),
    (0x0100_0002, v(2, 1)),
    (0x0200_0002, v(2, 2)),
    (0x0000_04D2, v(1234, 0)),
    (0x00FF_FB2E, v(-1234, 0)),
    (0x007F_FFFF, MderFloat::NaN),
    (0x0080_0000, MderFloat::NRes),
    (0x007F_FFFE, MderFloat::PositiveInfinity),
    (0x0080_0002, MderFloat::NegativeInfinity),
    (0x0080_0001, MderFloat::Reserved),
    (0x007F_FFFD, v(8_388_605, 0)),
    (0x0080_0003, v(-8_388_605, 0)),
    (0x017F_FFFF, v(8_388_607, 1)),
    (0x7F00_0001, v(1, 127)),
    (0x8000_0001, v(1, -128)),
    (0xFFFF_FFFF, v(-1, -1)),
    (0xFF00_016F, v(367, -1)),
];

#[test]
fn sfloat_vectors_decode_exactly() {
    for &(raw, want) in SFLOAT {
        assert_eq!(MderFloat::from_sfloat(raw), want, "0x{raw:04X}");
    }
}

#[test]
fn float_vectors_decode_exactly() {
    for &(raw, want) in FLOAT {
        assert_eq!(MderFloat::from_float(raw), want, "0x{raw:08X}");
    }
}

#[test]
fn special_values_never_become_numbers() {
    for s in [0x07FFu16, 0x0800, 0x07FE, 0x0802, 0x0801] {
        let f = MderFloat::from_sfloat(s);
        assert_eq!(f.value(), None);
        // Scaling (unit conversion) keeps them special.
        assert_eq!(f.scaled(5), f);
        let json = serde_json::to_value(f).unwrap();
        assert!(json.is_string(), "{json}");
    }
    let names: Vec<_> = [
        0x007F_FFFFu32,
        0x0080_0000,
        0x007F_FFFE,
        0x0080_0002,
        0x0080_0001,
    ]
    .map(|r| serde_json::to_string(&MderFloat::from_float(r)).unwrap())
    .into();
    assert_eq!(
        names,
        [
            r#""nan""#,
            r#""nres""#,
            r#""positiveInfinity""#,
            r#""negativeInfinity""#,
            r#""reserved""#
        ]
    );
}

#[test]
fn numbers_serialize_as_the_nearest_double() {
    assert_eq!(
        serde_json::to_string(&MderFloat::from_sfloat(0xF16F)).unwrap(),
        "36.7"
    );
    assert_eq!(
        serde_json::to_string(&MderFloat::from_sfloat(0xB05F)).unwrap(),
        "0.00095"
    );
    assert_eq!(
        serde_json::to_string(&MderFloat::from_float(0x00FF_FB2E)).unwrap(),
        "-1234.0"
    );
}
