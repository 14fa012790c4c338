// The error codes, as the core's `ErrorCode` (src/error.rs) names them; a test there checks
// that this union lists every code, in declaration order.

/** A stable error code (see `TeleconsultError`). */
export type ErrorCode =
  | "Unsupported"
  | "InvalidArgument"
  | "AuthenticationFailed"
  | "Replayed"
  | "Malformed"
  | "UnsupportedVersion"
  | "ProtocolViolation"
  | "InvalidState"
  | "Timeout"
  | "RateLimited"
  | "LimitExceeded"
  | "RelayRefused"
  | "NetworkError"
  | "MediaFailed"
  | "PermissionDenied"
  | "Consent"
  | "ConsentDenied"
  | "MalformedMeasurement";
