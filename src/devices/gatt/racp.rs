//! Record Access Control Point (0x2A52): downloading stored glucose records.
//!
//! The collector *writes* a request — op code, operator, operand — and the meter answers by
//! notifying the matching records on Glucose Measurement (and Context), then *indicating* a
//! response on this characteristic: `05 00 <count u16>` for a number-of-records request
//! (some meters send the count as a u32; accepted when it fits in 16 bits), otherwise
//! `06 00 <request op code> <response code>`. A reserved response code (0, 10–255) is
//! rejected: the code is the whole answer, and success cannot be told from failure. The
//! Glucose service requires an authenticated (bonded) link for these writes.
//!
//! Op codes: 1 report stored records, 2 delete stored records, 3 abort, 4 report number of
//! stored records, 5 number-of-records response, 6 response code. Operators: 0 null, 1 all,
//! 2 ≤, 3 ≥, 4 within range (inclusive), 5 first, 6 last. Filter types: 1 sequence number,
//! 2 user-facing time (base time + offset, a Date Time).

use serde::Serialize;

use crate::devices::gatt::date_time::{DateTime, OPERAND};
use crate::devices::reader::Reader;
use crate::devices::{Characteristic, ParseError};

/// Which records a request covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RecordFilter {
    /// Every stored record (operator 1).
    All,
    /// The oldest record (operator 5).
    First,
    /// The newest record (operator 6).
    Last,
    /// Sequence number ≤ `max` (operator 2, filter 1).
    SequenceAtMost {
        /// Inclusive upper bound.
        max: u16,
    },
    /// Sequence number ≥ `min` (operator 3, filter 1): "everything since the last download".
    SequenceAtLeast {
        /// Inclusive lower bound.
        min: u16,
    },
    /// `min` ≤ sequence number ≤ `max` (operator 4, filter 1).
    SequenceRange {
        /// Inclusive lower bound.
        min: u16,
        /// Inclusive upper bound.
        max: u16,
    },
    /// User-facing time ≤ `max` (operator 2, filter 2). Few meters support time filters.
    TimeAtMost {
        /// Inclusive upper bound.
        max: DateTime,
    },
    /// User-facing time ≥ `min` (operator 3, filter 2).
    TimeAtLeast {
        /// Inclusive lower bound.
        min: DateTime,
    },
    /// `min` ≤ user-facing time ≤ `max` (operator 4, filter 2).
    TimeRange {
        /// Inclusive lower bound.
        min: DateTime,
        /// Inclusive upper bound.
        max: DateTime,
    },
}

/// A request to write to the control point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "filter", rename_all = "camelCase")]
pub enum RacpRequest {
    /// Op code 1: notify the matching records.
    ReportStoredRecords(RecordFilter),
    /// Op code 2: delete the matching records.
    DeleteStoredRecords(RecordFilter),
    /// Op code 3: abort the running procedure.
    Abort,
    /// Op code 4: count the matching records.
    ReportNumberOfStoredRecords(RecordFilter),
}

const SEQUENCE: u8 = 0x01;
const TIME: u8 = 0x02;

impl RacpRequest {
    /// The bytes to write. A range whose start is after its end, or a time operand with an
    /// impossible date, is refused here rather than sent to the meter.
    pub fn encode(&self) -> Result<Vec<u8>, ParseError> {
        let invalid = ParseError::Invalid {
            characteristic: Characteristic::RecordAccessControlPoint,
            field: "operand",
        };
        let (op, filter) = match self {
            Self::ReportStoredRecords(f) => (1, f),
            Self::DeleteStoredRecords(f) => (2, f),
            Self::Abort => return Ok(vec![3, 0]),
            Self::ReportNumberOfStoredRecords(f) => (4, f),
        };
        let time = |t: &DateTime| {
            if t.is_valid() && t.is_complete() {
                Ok(t.encode())
            } else {
                Err(invalid)
            }
        };
        let mut out = vec![op];
        match *filter {
            RecordFilter::All => out.push(1),
            RecordFilter::First => out.push(5),
            RecordFilter::Last => out.push(6),
            RecordFilter::SequenceAtMost { max } => {
                out.extend([2, SEQUENCE]);
                out.extend(max.to_le_bytes());
            }
            RecordFilter::SequenceAtLeast { min } => {
                out.extend([3, SEQUENCE]);
                out.extend(min.to_le_bytes());
            }
            RecordFilter::SequenceRange { min, max } => {
                if min > max {
                    return Err(invalid);
                }
                out.extend([4, SEQUENCE]);
                out.extend(min.to_le_bytes());
                out.extend(max.to_le_bytes());
            }
            RecordFilter::TimeAtMost { max } => {
                out.extend([2, TIME]);
                out.extend(time(&max)?);
            }
            RecordFilter::TimeAtLeast { min } => {
                out.extend([3, TIME]);
                out.extend(time(&min)?);
            }
            RecordFilter::TimeRange { min, max } => {
                let (a, b) = (time(&min)?, time(&max)?);
                if min.wall_clock_ms() > max.wall_clock_ms() {
                    return Err(invalid);
                }
                out.extend([4, TIME]);
                out.extend(a);
                out.extend(b);
            }
        }
        Ok(out)
    }
}

/// The outcome the meter reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResponseCode {
    /// 1: the procedure completed.
    Success,
    /// 2.
    OpCodeNotSupported,
    /// 3.
    InvalidOperator,
    /// 4.
    OperatorNotSupported,
    /// 5.
    InvalidOperand,
    /// 6: nothing matched the filter.
    NoRecordsFound,
    /// 7.
    AbortUnsuccessful,
    /// 8: e.g. the link dropped mid-download.
    ProcedureNotCompleted,
    /// 9.
    OperandNotSupported,
}

/// What the control point indicates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum RacpResponse {
    /// Op code 5: the answer to "report number of stored records".
    NumberOfRecords {
        /// How many records match.
        count: u16,
    },
    /// Op code 6: the outcome of a request.
    Response {
        /// The op code of the request being answered (kept raw: an unsupported request's
        /// op code is echoed whatever it was).
        request_op_code: u8,
        /// The outcome.
        code: ResponseCode,
    },
}

/// Parses a control-point indication. Requests (op codes 1–4) are not indicated by a
/// server and are rejected.
pub fn parse_response(bytes: &[u8]) -> Result<RacpResponse, ParseError> {
    let mut r = Reader::new(Characteristic::RecordAccessControlPoint, bytes);
    let op = r.u8("opCode")?;
    if op != 5 && op != 6 {
        return Err(r.invalid("opCode"));
    }
    if r.u8("operator")? != 0 {
        // Responses always carry the null operator.
        return Err(r.invalid("operator"));
    }
    let response = if op == 5 {
        // The specification's count is a u16. Some meters send a u32: accepted when its upper
        // half is zero (glucose record sequence numbers are 16-bit; a larger count is
        // refused as `invalid` rather than cut) and no byte is left over.
        let count = r.u16("operand")?;
        if r.remaining() >= 2 && r.u16("operand")? != 0 {
            return Err(r.invalid("operand"));
        }
        RacpResponse::NumberOfRecords { count }
    } else {
        let request_op_code = r.u8("requestOpCode")?;
        let code = match r.u8("responseCode")? {
            1 => ResponseCode::Success,
            2 => ResponseCode::OpCodeNotSupported,
            3 => ResponseCode::InvalidOperator,
            4 => ResponseCode::OperatorNotSupported,
            5 => ResponseCode::InvalidOperand,
            6 => ResponseCode::NoRecordsFound,
            7 => ResponseCode::AbortUnsuccessful,
            8 => ResponseCode::ProcedureNotCompleted,
            9 => ResponseCode::OperandNotSupported,
            _ => return Err(r.reserved("responseCode")),
        };
        RacpResponse::Response {
            request_op_code,
            code,
        }
    };
    r.finish()?;
    Ok(response)
}

/// Reads a request as a meter would (used by tests and simulators).
pub fn parse_request(bytes: &[u8]) -> Result<RacpRequest, ParseError> {
    let mut r = Reader::new(Characteristic::RecordAccessControlPoint, bytes);
    let op = r.u8("opCode")?;
    let operator = r.u8("operator")?;
    if op == 3 {
        if operator != 0 {
            return Err(r.invalid("operator"));
        }
        r.finish()?;
        return Ok(RacpRequest::Abort);
    }
    let filter = match operator {
        1 => RecordFilter::All,
        5 => RecordFilter::First,
        6 => RecordFilter::Last,
        2..=4 => {
            let kind = r.u8("filterType")?;
            match (operator, kind) {
                (2, SEQUENCE) => RecordFilter::SequenceAtMost {
                    max: r.u16("operand")?,
                },
                (3, SEQUENCE) => RecordFilter::SequenceAtLeast {
                    min: r.u16("operand")?,
                },
                (4, SEQUENCE) => {
                    let (min, max) = (r.u16("operand")?, r.u16("operand")?);
                    if min > max {
                        return Err(r.invalid("operand"));
                    }
                    RecordFilter::SequenceRange { min, max }
                }
                (2, TIME) => RecordFilter::TimeAtMost {
                    max: DateTime::read(&mut r, &OPERAND)?,
                },
                (3, TIME) => RecordFilter::TimeAtLeast {
                    min: DateTime::read(&mut r, &OPERAND)?,
                },
                (_, TIME) => RecordFilter::TimeRange {
                    min: DateTime::read(&mut r, &OPERAND)?,
                    max: DateTime::read(&mut r, &OPERAND)?,
                },
                _ => return Err(r.reserved("filterType")),
            }
        }
        0 => return Err(r.invalid("operator")),
        _ => return Err(r.reserved("operator")),
    };
    let request = match op {
        1 => RacpRequest::ReportStoredRecords(filter),
        2 => RacpRequest::DeleteStoredRecords(filter),
        4 => RacpRequest::ReportNumberOfStoredRecords(filter),
        5 | 6 => return Err(r.invalid("opCode")),
        _ => return Err(r.reserved("opCode")),
    };
    r.finish()?;
    // Time operands must be complete dates and ranges ordered: exactly what `encode` emits.
    match request.encode() {
        Ok(encoded) if encoded == bytes => Ok(request),
        _ => Err(ParseError::Invalid {
            characteristic: Characteristic::RecordAccessControlPoint,
            field: "operand",
        }),
    }
}
