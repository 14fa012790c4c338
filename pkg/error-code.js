/** Stable error codes: compare `err.code === ErrorCode.Unsupported`; codes are never renamed. */
export const ErrorCode = Object.freeze({
  Unsupported: 'Unsupported',
  InvalidArgument: 'InvalidArgument',
});
