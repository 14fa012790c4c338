// The clinician's vitals, consent and export panels. HOOK: filled in once the SDK's consent
// and device APIs are in the package.
export class ClinicianExtras {
  constructor(sdk, ctx) {
    this.sdk = sdk;
    this.ctx = ctx;
  }
  attach() {}
  setPatient() {}
  sasConfirmed() {}
  ended() {}
  reset() {}
  export() {}
}
