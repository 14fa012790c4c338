//! HL7 FHIR R4 Observations for readings, following the Personal Health Device (PHD) IG.
//!
//! Each Observation carries: the `phd-observation` category (plus `vital-signs` for vital
//! signs), an MDC code (`urn:iso:std:iso:11073:10101`) and a LOINC code where one exists,
//! a UCUM quantity or — for SFLOAT/FLOAT special values — a `dataAbsentReason`, the subject
//! and Device references, the effective time, and an `identifier` with only a `value` (as
//! the IG's conditional-create slice requires): `<reading id>-<MDC code>`, so the
//! Observations split from one reading stay distinct. Upload with
//! `If-None-Exist: identifier=<value>`.
//!
//! Demonstration, testing and control-solution readings keep their values but are labelled
//! `meta.security = HTEST`, as the IG asks, so they are never taken for patient data.
//! Intermediate cuff pressure is progress, not a result: it maps to no Observation.
//! The mapping table is in `docs/DEVICES.md`.

use serde::Serialize;

use super::gatt::StatusFlag;
use super::gatt::blood_pressure::PressureUnit;
use super::gatt::glucose_measurement::{GlucoseUnit, SampleType};
use super::gatt::temperature_measurement::TemperatureUnit;
use super::gatt::temperature_type::TemperatureType;
use super::gatt::weight_measurement::WeightUnit;
use super::reading::{Reading, TimeSource};
use super::{Decimal, MderFloat, Measurement, format_fhir_datetime};

const LOINC: &str = "http://loinc.org";
const MDC: &str = "urn:iso:std:iso:11073:10101";
const UCUM: &str = "http://unitsofmeasure.org";
const ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";

/// Where the Observations point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FhirContext {
    /// The patient reference, e.g. `Patient/123` or a `urn:uuid:` inside a transaction.
    pub subject: String,
    /// The PHD Device resource reference.
    pub device: String,
    /// The gateway (this app's host) Device reference, for the PHD IG's `gatewayDevice`
    /// extension; omitted when `None`.
    pub gateway_device: Option<String>,
}

/// A FHIR `Coding`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Coding {
    /// Code system URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
    /// Human-readable display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<&'static str>,
}

/// A FHIR `CodeableConcept`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeableConcept {
    /// The codings.
    pub coding: Vec<Coding>,
    /// Plain text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'static str>,
}

/// A FHIR `Reference`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reference {
    /// The literal reference.
    pub reference: String,
}

/// A FHIR `Quantity` with a UCUM unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quantity {
    /// The value (JSON number: trailing zeros of the device's precision are not kept).
    pub value: Decimal,
    /// Human-readable unit.
    pub unit: &'static str,
    /// Always UCUM.
    pub system: &'static str,
    /// UCUM code.
    pub code: &'static str,
}

/// A FHIR `Identifier` (value only, per the PHD conditional-create slice).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// The value.
    pub value: String,
}

/// A FHIR `Annotation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Annotation {
    /// The note.
    pub text: String,
}

/// A FHIR `Extension` with a reference value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Extension {
    /// The extension URL.
    pub url: &'static str,
    /// The value.
    pub value_reference: Reference,
}

/// A FHIR `Meta` (only security labels are used).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Meta {
    /// Security labels.
    pub security: Vec<Coding>,
}

/// An `Observation.component`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// What the component is.
    pub code: CodeableConcept,
    /// Its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    /// Why there is no value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_absent_reason: Option<CodeableConcept>,
}

/// A FHIR R4 Observation, ready for `serde_json` (the JavaScript layer converts it with its own small serde serializer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// Always `Observation`.
    pub resource_type: &'static str,
    /// `HTEST` label for demonstration, testing and control-solution data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// The PHD IG `gatewayDevice` extension.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    /// The conditional-create identifier.
    pub identifier: Vec<Identifier>,
    /// `final`, or `preliminary` while the device says the measurement is ongoing or early.
    pub status: &'static str,
    /// `phd-observation`, plus `vital-signs` for vital signs.
    pub category: Vec<CodeableConcept>,
    /// MDC and LOINC codes.
    pub code: CodeableConcept,
    /// The patient.
    pub subject: Reference,
    /// When measured, with UTC offset.
    pub effective_date_time: String,
    /// The value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_quantity: Option<Quantity>,
    /// Why there is no value (special float values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_absent_reason: Option<CodeableConcept>,
    /// Notes: the time source when it is not the device, and device status.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub note: Vec<Annotation>,
    /// The PHD.
    pub device: Reference,
    /// Blood pressure components.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<Component>,
}

/// What an Observation (or component) is: MDC code, optional LOINC codes, and text.
struct Kind {
    mdc: &'static str,
    mdc_name: &'static str,
    loinc: &'static [(&'static str, &'static str)],
    vital: bool,
}

impl Kind {
    fn concept(&self) -> CodeableConcept {
        let mut coding: Vec<Coding> = self
            .loinc
            .iter()
            .map(|(code, display)| Coding {
                system: LOINC,
                code,
                display: Some(display),
            })
            .collect();
        coding.push(Coding {
            system: MDC,
            code: self.mdc,
            display: Some(self.mdc_name),
        });
        CodeableConcept {
            coding,
            text: Some(self.mdc_name),
        }
    }
}

const fn kind(
    mdc: &'static str,
    mdc_name: &'static str,
    loinc: &'static [(&'static str, &'static str)],
) -> Kind {
    Kind {
        mdc,
        mdc_name,
        loinc,
        vital: !loinc.is_empty(),
    }
}

const HEART_RATE: &[(&str, &str)] = &[("8867-4", "Heart rate")];
const HR_ECG: Kind = kind("147842", "MDC_ECG_HEART_RATE", HEART_RATE);
const PR_BP: Kind = kind("149546", "MDC_PULS_RATE_NON_INV", HEART_RATE);
const PR_OXIM: Kind = kind("149530", "MDC_PULS_OXIM_PULS_RATE", HEART_RATE);
const BP: Kind = kind(
    "150020",
    "MDC_PRESS_BLD_NONINV",
    &[("85354-9", "Blood pressure panel with all children optional")],
);
const BP_SYS: Kind = kind(
    "150021",
    "MDC_PRESS_BLD_NONINV_SYS",
    &[("8480-6", "Systolic blood pressure")],
);
const BP_DIA: Kind = kind(
    "150022",
    "MDC_PRESS_BLD_NONINV_DIA",
    &[("8462-4", "Diastolic blood pressure")],
);
const BP_MEAN: Kind = kind(
    "150023",
    "MDC_PRESS_BLD_NONINV_MEAN",
    &[("8478-0", "Mean blood pressure")],
);
const SPO2: Kind = kind(
    "150456",
    "MDC_PULS_OXIM_SAT_O2",
    &[
        (
            "59408-5",
            "Oxygen saturation in Arterial blood by Pulse oximetry",
        ),
        ("2708-6", "Oxygen saturation in Arterial blood"),
    ],
);
const WEIGHT: Kind = kind(
    "188736",
    "MDC_MASS_BODY_ACTUAL",
    &[("29463-7", "Body weight")],
);
const BMI: Kind = kind(
    "188752",
    "MDC_RATIO_MASS_BODY_LEN_SQ",
    &[("39156-5", "Body mass index (BMI) [Ratio]")],
);
const HEIGHT: Kind = kind(
    "188740",
    "MDC_LEN_BODY_ACTUAL",
    &[("8302-2", "Body height")],
);
const BODY_TEMP: &[(&str, &str)] = &[("8310-5", "Body temperature")];

fn temperature_kind(site: Option<TemperatureType>) -> Kind {
    use TemperatureType as T;
    let (mdc, name) = match site {
        None | Some(T::Body) => ("150364", "MDC_TEMP_BODY"),
        Some(T::Armpit) => ("188452", "MDC_TEMP_AXILLA"),
        Some(T::Ear) => ("188428", "MDC_TEMP_EAR"),
        Some(T::Finger) => ("188432", "MDC_TEMP_FINGER"),
        Some(T::GastrointestinalTract) => ("188456", "MDC_TEMP_GIT"),
        Some(T::Mouth) => ("188424", "MDC_TEMP_ORAL"),
        Some(T::Rectum) => ("188420", "MDC_TEMP_RECT"),
        Some(T::Toe) => ("188448", "MDC_TEMP_TOE"),
        Some(T::Tympanum) => ("150392", "MDC_TEMP_TYMP"),
    };
    kind(mdc, name, BODY_TEMP)
}

/// Glucose: the MDC code follows the sample type; LOINC follows sample and unit. Capillary
/// samples (whole blood or plasma-calibrated) use the "by Glucometer" codes; other blood and
/// plasma samples the generic Blood / Serum-or-Plasma codes; interstitial fluid and control
/// solution carry no LOINC code.
fn glucose_kind(sample: SampleType, unit: GlucoseUnit) -> Kind {
    use SampleType as S;
    let molar = unit == GlucoseUnit::MolPerL;
    let capillary: &[(&str, &str)] = if molar {
        &[(
            "14743-9",
            "Glucose [Moles/volume] in Capillary blood by Glucometer",
        )]
    } else {
        &[(
            "41653-7",
            "Glucose [Mass/volume] in Capillary blood by Glucometer",
        )]
    };
    let blood: &[(&str, &str)] = if molar {
        &[("15074-8", "Glucose [Moles/volume] in Blood")]
    } else {
        &[("2339-0", "Glucose [Mass/volume] in Blood")]
    };
    let plasma: &[(&str, &str)] = if molar {
        &[("14749-6", "Glucose [Moles/volume] in Serum or Plasma")]
    } else {
        &[("2345-7", "Glucose [Mass/volume] in Serum or Plasma")]
    };
    let none: &[(&str, &str)] = &[];
    let (mdc, name, loinc) = match sample {
        S::CapillaryWholeBlood => ("160184", "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", capillary),
        S::CapillaryPlasma => ("160188", "MDC_CONC_GLU_CAPILLARY_PLASMA", capillary),
        S::VenousWholeBlood => ("160192", "MDC_CONC_GLU_VENOUS_WHOLEBLOOD", blood),
        S::VenousPlasma => ("160196", "MDC_CONC_GLU_VENOUS_PLASMA", plasma),
        S::ArterialWholeBlood => ("160200", "MDC_CONC_GLU_ARTERIAL_WHOLEBLOOD", blood),
        S::ArterialPlasma => ("160204", "MDC_CONC_GLU_ARTERIAL_PLASMA", plasma),
        S::UndeterminedWholeBlood => ("160364", "MDC_CONC_GLU_UNDETERMINED_WHOLEBLOOD", blood),
        S::UndeterminedPlasma => ("160368", "MDC_CONC_GLU_UNDETERMINED_PLASMA", plasma),
        S::InterstitialFluid => ("160212", "MDC_CONC_GLU_ISF", none),
        S::ControlSolution => ("160208", "MDC_CONC_GLU_CONTROL", none),
    };
    // Glucose is not a FHIR vital sign even with a LOINC code.
    Kind {
        mdc,
        mdc_name: name,
        loinc,
        vital: false,
    }
}

/// A value in a unit: `(value, unit text, UCUM code)`.
type Unit = (&'static str, &'static str);
const PER_MIN: Unit = ("/min", "/min");
const PERCENT: Unit = ("%", "%");

/// A value or its `dataAbsentReason`.
fn value(v: MderFloat, unit: Unit) -> (Option<Quantity>, Option<CodeableConcept>) {
    let code = match v {
        MderFloat::Value(d) => {
            return (
                Some(Quantity {
                    value: d,
                    unit: unit.0,
                    system: UCUM,
                    code: unit.1,
                }),
                None,
            );
        }
        MderFloat::NaN => "not-a-number",
        MderFloat::PositiveInfinity => "positive-infinity",
        MderFloat::NegativeInfinity => "negative-infinity",
        MderFloat::NRes | MderFloat::Reserved => "error",
    };
    (
        None,
        Some(CodeableConcept {
            coding: vec![Coding {
                system: ABSENT,
                code,
                display: None,
            }],
            text: None,
        }),
    )
}

/// Maps a reading to its Observations (none for intermediate cuff pressure and
/// non-measurements).
pub fn to_fhir(reading: &Reading, ctx: &FhirContext) -> Vec<Observation> {
    let base = |kind: &Kind, v: MderFloat, unit: Unit| observation(reading, ctx, kind, v, unit);
    match &reading.measurement {
        Measurement::HeartRate(hr) => {
            let v = MderFloat::Value(Decimal::new(hr.heart_rate.into(), 0));
            vec![base(&HR_ECG, v, PER_MIN)]
        }
        Measurement::BloodPressure(bp) => {
            let unit = match bp.unit {
                PressureUnit::MmHg => ("mmHg", "mm[Hg]"),
                PressureUnit::KPa => ("kPa", "kPa"),
            };
            let mut panel = base(&BP, MderFloat::NaN, unit);
            panel.data_absent_reason = None;
            panel.component = [
                (&BP_SYS, bp.systolic),
                (&BP_DIA, bp.diastolic),
                (&BP_MEAN, bp.mean_arterial_pressure),
            ]
            .into_iter()
            .map(|(k, v)| {
                let (value_quantity, data_absent_reason) = value(v, unit);
                Component {
                    code: k.concept(),
                    value_quantity,
                    data_absent_reason,
                }
            })
            .collect();
            let mut out = vec![panel];
            out.extend(bp.pulse_rate.map(|pr| base(&PR_BP, pr, PER_MIN)));
            out
        }
        Measurement::Temperature(t) => {
            let unit = match t.unit {
                TemperatureUnit::Celsius => ("C", "Cel"),
                TemperatureUnit::Fahrenheit => ("F", "[degF]"),
            };
            vec![base(
                &temperature_kind(t.temperature_type),
                t.temperature,
                unit,
            )]
        }
        Measurement::Weight(w) => {
            let imperial = w.unit == WeightUnit::Imperial;
            let mut out = vec![base(
                &WEIGHT,
                w.weight,
                if imperial {
                    ("lb", "[lb_av]")
                } else {
                    ("kg", "kg")
                },
            )];
            out.extend(
                w.bmi
                    .map(|b| base(&BMI, MderFloat::Value(b), ("kg/m2", "kg/m2"))),
            );
            out.extend(w.height.map(|h| {
                // Vital-signs body height is in cm or [in_i]: metres become centimetres exactly.
                if imperial {
                    base(&HEIGHT, MderFloat::Value(h), ("in", "[in_i]"))
                } else {
                    base(&HEIGHT, MderFloat::Value(h.scaled(2)), ("cm", "cm"))
                }
            }));
            out
        }
        Measurement::Glucose(g) => match &g.concentration {
            Some(c) => {
                let (v, unit) = match c.unit {
                    GlucoseUnit::KgPerL => (c.value.scaled(5), ("mg/dL", "mg/dL")),
                    GlucoseUnit::MolPerL => (c.value.scaled(3), ("mmol/L", "mmol/L")),
                };
                vec![base(&glucose_kind(c.sample_type, c.unit), v, unit)]
            }
            None => Vec::new(),
        },
        Measurement::PlxSpotCheck(s) => vec![
            base(&SPO2, s.spo2, PERCENT),
            base(&PR_OXIM, s.pulse_rate, PER_MIN),
        ],
        Measurement::PlxContinuous(c) => {
            vec![
                base(&SPO2, c.normal.spo2, PERCENT),
                base(&PR_OXIM, c.normal.pulse_rate, PER_MIN),
            ]
        }
        _ => Vec::new(),
    }
}

fn observation(
    reading: &Reading,
    ctx: &FhirContext,
    kind: &Kind,
    v: MderFloat,
    unit: Unit,
) -> Observation {
    let (value_quantity, data_absent_reason) = value(v, unit);
    let category = |system, code, display| CodeableConcept {
        coding: vec![Coding {
            system,
            code,
            display: Some(display),
        }],
        text: None,
    };
    let mut categories = vec![category(
        "http://hl7.org/fhir/uv/phd/CodeSystem/PhdObservationCategories",
        "phd-observation",
        "PHD generated Observation",
    )];
    if kind.vital {
        categories.push(category(
            "http://terminology.hl7.org/CodeSystem/observation-category",
            "vital-signs",
            "Vital Signs",
        ));
    }
    let mut note = Vec::new();
    if reading.effective_time_source == TimeSource::Received {
        let why = match reading.device_timestamp {
            Some(_) => "the device timestamp is not trusted",
            None => "the device sent no timestamp",
        };
        note.push(Annotation {
            text: format!("Effective time is the time the reading was received: {why}."),
        });
    }
    if !reading.flags.is_empty() {
        let names: Vec<&str> = reading.flags.iter().map(|f| f.name()).collect();
        note.push(Annotation {
            text: format!("Device status: {}.", names.join(", ")),
        });
    }
    let preliminary = reading.flags.iter().any(|f| {
        matches!(
            f,
            StatusFlag::MeasurementOngoing | StatusFlag::EarlyEstimatedData
        )
    });
    Observation {
        resource_type: "Observation",
        meta: (!reading.patient_data).then(|| Meta {
            security: vec![Coding {
                system: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                code: "HTEST",
                display: Some("test health data"),
            }],
        }),
        extension: ctx
            .gateway_device
            .iter()
            .map(|g| Extension {
                url: "http://hl7.org/fhir/StructureDefinition/observation-gatewayDevice",
                value_reference: Reference {
                    reference: g.clone(),
                },
            })
            .collect(),
        identifier: vec![Identifier {
            value: format!("{}-{}", reading.id, kind.mdc),
        }],
        status: if preliminary { "preliminary" } else { "final" },
        category: categories,
        code: kind.concept(),
        subject: Reference {
            reference: ctx.subject.clone(),
        },
        effective_date_time: format_fhir_datetime(
            reading.effective_time,
            reading.utc_offset_minutes,
        ),
        value_quantity,
        data_absent_reason,
        note,
        device: Reference {
            reference: ctx.device.clone(),
        },
        component: Vec::new(),
    }
}
