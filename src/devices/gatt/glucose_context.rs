//! Glucose Measurement Context (0x2A34): circumstances of the glucose record with the same
//! sequence number.
//!
//! Flags (u8): bit 0 carbohydrate id + carbohydrate; bit 1 meal; bit 2 tester-health; bit 3
//! exercise duration + intensity; bit 4 medication id + medication; bit 5 medication unit
//! litres (else kilograms); bit 6 HbA1c; bit 7 extended flags present. Body: sequence number
//! (u16), extended flags (u8, all reserved), carbohydrate id (u8) + carbohydrate (SFLOAT,
//! kg), meal (u8), tester (low nibble) / health (high nibble), exercise duration (u16 s,
//! 0xFFFF = overrun) + intensity (u8, %), medication id (u8) + medication (SFLOAT, kg or L),
//! HbA1c (SFLOAT, %).
//!
//! The specification's units are SI base units; this module reports carbohydrate in grams
//! and medication in milligrams or millilitres (exact exponent shifts), as people read them.
//!
//! Reserved for future use, and ignored: every extended flag (the byte is read when flag
//! bit 7 announces it, then disregarded). A reserved meal reads as no meal; a reserved tester
//! or health nibble as `notAvailable`; a reserved carbohydrate or medication id drops that
//! one entry (an amount without its meal or its kind of insulin cannot be read safely).
//! The rest of the context stands.

use serde::Serialize;

use crate::devices::reader::Reader;
use crate::devices::{Characteristic, MderFloat, ParseError};

/// Which meal the carbohydrate belongs to. 0 and 8–255 are reserved (the entry is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CarbohydrateId {
    /// 1.
    Breakfast,
    /// 2.
    Lunch,
    /// 3.
    Dinner,
    /// 4.
    Snack,
    /// 5.
    Drink,
    /// 6.
    Supper,
    /// 7.
    Brunch,
}

/// Relation of the measurement to a meal. 0 and 6–255 are reserved (read as no meal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Meal {
    /// 1: before a meal.
    Preprandial,
    /// 2: after a meal.
    Postprandial,
    /// 3.
    Fasting,
    /// 4: snacks, drinks.
    Casual,
    /// 5.
    Bedtime,
}

/// Who tested. 0 and 4–14 are reserved (read as [`NotAvailable`](Self::NotAvailable)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Tester {
    /// 1.
    SelfTest,
    /// 2.
    HealthCareProfessional,
    /// 3.
    LabTest,
    /// 15.
    NotAvailable,
}

/// The patient's health at the time. 0 and 6–14 are reserved (read as
/// [`NotAvailable`](Self::NotAvailable)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Health {
    /// 1.
    MinorHealthIssues,
    /// 2.
    MajorHealthIssues,
    /// 3.
    DuringMenses,
    /// 4.
    UnderStress,
    /// 5.
    NoHealthIssues,
    /// 15.
    NotAvailable,
}

/// Insulin kind. 0 and 6–255 are reserved (the medication entry is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MedicationId {
    /// 1.
    RapidActingInsulin,
    /// 2.
    ShortActingInsulin,
    /// 3.
    IntermediateActingInsulin,
    /// 4.
    LongActingInsulin,
    /// 5.
    PreMixedInsulin,
}

/// Carbohydrate intake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Carbohydrate {
    /// Which meal.
    pub id: CarbohydrateId,
    /// Grams.
    pub grams: MderFloat,
}

/// Exercise before the measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exercise {
    /// Seconds; 65535 means "overrun" (at least that long).
    pub duration: u16,
    /// Percent, 0–100.
    pub intensity: u8,
}

/// Medication taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Medication {
    /// Which insulin.
    pub id: MedicationId,
    /// The amount in `unit`.
    pub amount: MderFloat,
    /// `"mg"` or `"mL"`.
    pub unit: &'static str,
}

/// Context for one glucose record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GlucoseContext {
    /// Sequence number of the Glucose Measurement this belongs to.
    pub sequence_number: u16,
    /// Carbohydrate intake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carbohydrate: Option<Carbohydrate>,
    /// Meal relation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meal: Option<Meal>,
    /// Who tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tester: Option<Tester>,
    /// Health at the time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Exercise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exercise: Option<Exercise>,
    /// Medication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medication: Option<Medication>,
    /// HbA1c, percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hba1c: Option<MderFloat>,
}

/// Parses a Glucose Measurement Context.
pub fn parse(bytes: &[u8]) -> Result<GlucoseContext, ParseError> {
    let mut r = Reader::new(Characteristic::GlucoseMeasurementContext, bytes);
    let flags = r.u8("flags")?;
    let sequence_number = r.u16("sequenceNumber")?;
    if flags & 0x80 != 0 {
        // Every extended flag is reserved for future use: read for the layout, ignored.
        r.u8("extendedFlags")?;
    }
    let carbohydrate = if flags & 0x01 != 0 {
        let id = match r.u8("carbohydrateId")? {
            1 => Some(CarbohydrateId::Breakfast),
            2 => Some(CarbohydrateId::Lunch),
            3 => Some(CarbohydrateId::Dinner),
            4 => Some(CarbohydrateId::Snack),
            5 => Some(CarbohydrateId::Drink),
            6 => Some(CarbohydrateId::Supper),
            7 => Some(CarbohydrateId::Brunch),
            _ => None, // reserved: the entry is dropped below
        };
        let grams = r.sfloat("carbohydrate")?.scaled(3);
        id.map(|id| Carbohydrate { id, grams })
    } else {
        None
    };
    let meal = if flags & 0x02 != 0 {
        match r.u8("meal")? {
            1 => Some(Meal::Preprandial),
            2 => Some(Meal::Postprandial),
            3 => Some(Meal::Fasting),
            4 => Some(Meal::Casual),
            5 => Some(Meal::Bedtime),
            _ => None, // reserved
        }
    } else {
        None
    };
    let (tester, health) = if flags & 0x04 != 0 {
        let th = r.u8("testerHealth")?;
        let tester = match th & 0x0F {
            1 => Tester::SelfTest,
            2 => Tester::HealthCareProfessional,
            3 => Tester::LabTest,
            // 15, and the reserved 0 and 4–14.
            _ => Tester::NotAvailable,
        };
        let health = match th >> 4 {
            1 => Health::MinorHealthIssues,
            2 => Health::MajorHealthIssues,
            3 => Health::DuringMenses,
            4 => Health::UnderStress,
            5 => Health::NoHealthIssues,
            // 15, and the reserved 0 and 6–14.
            _ => Health::NotAvailable,
        };
        (Some(tester), Some(health))
    } else {
        (None, None)
    };
    let exercise = if flags & 0x08 != 0 {
        let duration = r.u16("exerciseDuration")?;
        let intensity = r.u8("exerciseIntensity")?;
        if intensity > 100 {
            return Err(r.invalid("exerciseIntensity"));
        }
        Some(Exercise {
            duration,
            intensity,
        })
    } else {
        None
    };
    let medication = if flags & 0x10 != 0 {
        let id = match r.u8("medicationId")? {
            1 => Some(MedicationId::RapidActingInsulin),
            2 => Some(MedicationId::ShortActingInsulin),
            3 => Some(MedicationId::IntermediateActingInsulin),
            4 => Some(MedicationId::LongActingInsulin),
            5 => Some(MedicationId::PreMixedInsulin),
            _ => None, // reserved: the entry is dropped below
        };
        let raw = r.sfloat("medication")?;
        // kg → mg is 10^6; L → mL is 10^3.
        let (amount, unit) = if flags & 0x20 != 0 {
            (raw.scaled(3), "mL")
        } else {
            (raw.scaled(6), "mg")
        };
        id.map(|id| Medication { id, amount, unit })
    } else {
        None
    };
    let hba1c = if flags & 0x40 != 0 {
        Some(r.sfloat("hba1c")?)
    } else {
        None
    };
    r.finish()?;
    Ok(GlucoseContext {
        sequence_number,
        carbohydrate,
        meal,
        tester,
        health,
        exercise,
        medication,
        hba1c,
    })
}
