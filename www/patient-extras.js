// The patient's consent and device panels. HOOK: filled in once the SDK's consent and device
// APIs are in the package; until then the page runs the call without them.
export class PatientExtras {
  constructor(sdk, ctx) {
    this.sdk = sdk;
    this.ctx = ctx;
  }
  get consentAvailable() { return false; }
  showNotice() {}
  async grant() {}
  allowedMedia() { return { audio: true, video: true }; }
  attach() {}
  detach() {}
}
