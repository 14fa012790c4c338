// Types of `capabilities()`: what the platform offers the SDK.
/** One platform feature: whether the SDK can use it, and if not, why and what to do. */
export interface Capability {
  available: boolean;
  /** Present only when `available` is false; written to be shown to a patient or integrator. */
  reason?: string;
}

/** The name of a feature reported by `capabilities()`. */
export type CapabilityName =
  | "secureContext" | "rtcPeerConnection" | "getUserMedia" | "webBluetooth"
  | "indexedDb" | "webCrypto" | "webSocket" | "screenShare";

/** What this browser, webview or Node.js process offers the SDK. */
export type Capabilities = { [K in CapabilityName]: Capability } & {
  /** `ios` covers every iOS browser and WKWebView; `android-webview` an app's WebView. */
  platform: "browser" | "ios" | "android-webview" | "node";
};
