//! What the host (a browser, a mobile webview or Node.js) offers the SDK, and why a missing
//! feature is missing.
//!
//! The web driver probes the JavaScript globals and hands the raw facts to [`assess`]; the
//! wording of every reason lives here so that it is tested natively and reads the same in
//! every host.

/// The kind of host, as far as the page can tell. It decides which fallback a reason names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// A desktop or Android browser.
    Browser,
    /// Any browser or webview on iOS or iPadOS: all of them run WebKit.
    Ios,
    /// An Android app's embedded WebView.
    AndroidWebView,
    /// Node.js (gateways, servers, tests).
    Node,
}

impl Platform {
    /// The platform's name as JavaScript sees it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Ios => "ios",
            Self::AndroidWebView => "android-webview",
            Self::Node => "node",
        }
    }

    /// Whether the host keeps one live capture per kind: on iOS (every browser and
    /// WKWebView) a second camera track mutes or ends the first, and Android WebViews on many
    /// devices cannot open a second camera while one is open. Switching cameras there stops
    /// the old track before asking for the new one; elsewhere the new one opens first, so the
    /// picture never goes dark.
    pub const fn one_capture_per_kind(self) -> bool {
        matches!(self, Self::Ios | Self::AndroidWebView)
    }

    /// Classifies a host from its user-agent string and whether it is Node.js.
    ///
    /// iPadOS 13+ reports a desktop Safari user agent; `touch` (maxTouchPoints > 1) tells it
    /// apart from a Mac.
    pub fn detect(user_agent: &str, is_node: bool, touch: bool) -> Self {
        let has = |needle: &str| contains(user_agent, needle);
        if is_node {
            Self::Node
        } else if ["iPhone", "iPad", "iPod"].iter().any(|d| has(d)) || (has("Macintosh") && touch) {
            Self::Ios
        } else if has("Android") && has("; wv)") {
            Self::AndroidWebView
        } else {
            Self::Browser
        }
    }
}

/// `haystack.contains(needle)`, by comparing at each position: user agents are short, and
/// `str::contains` costs more wasm (docs/DEVELOPING.md, "Why size shapes the code").
fn contains(haystack: &str, needle: &str) -> bool {
    // `windows(0)` would panic; the empty string is in every string.
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// The raw facts a host reports: does each global exist?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The kind of host.
    pub platform: Platform,
    /// `isSecureContext` (HTTPS or localhost).
    pub secure_context: bool,
    /// `RTCPeerConnection` exists.
    pub rtc_peer_connection: bool,
    /// `navigator.mediaDevices.getUserMedia` exists.
    pub get_user_media: bool,
    /// `navigator.bluetooth` exists.
    pub web_bluetooth: bool,
    /// `indexedDB` exists.
    pub indexed_db: bool,
    /// `crypto.subtle` exists.
    pub web_crypto: bool,
    /// `WebSocket` exists.
    pub web_socket: bool,
    /// `navigator.mediaDevices.getDisplayMedia` exists (no mobile browser has it).
    pub get_display_media: bool,
}

/// One feature's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// The feature's JavaScript name (`webBluetooth`, …).
    pub name: &'static str,
    /// Whether the SDK can use it here.
    pub available: bool,
    /// Why it is missing and what to do instead; `None` when available.
    pub reason: Option<&'static str>,
}

/// The name of every capability, in the order [`assess`] reports them.
pub const NAMES: [&str; 8] = [
    "secureContext",
    "rtcPeerConnection",
    "getUserMedia",
    "webBluetooth",
    "indexedDb",
    "webCrypto",
    "webSocket",
    "screenShare",
];

/// Turns raw facts into verdicts with reasons a patient's app can show.
pub fn assess(probe: &Probe) -> [Capability; 8] {
    let p = probe.platform;
    let insecure = "the page is not served over HTTPS (or localhost), so the browser disables \
                    this feature; serve the page over HTTPS";
    let verdict = |name, available, reason| Capability {
        name,
        available,
        reason: if available { None } else { Some(reason) },
    };
    [
        verdict(
            "secureContext",
            probe.secure_context,
            match p {
                Platform::Node => {
                    "Node.js has no secure-context notion; browser-only features are unavailable"
                }
                _ => {
                    "the page is not served over HTTPS (or localhost); camera, microphone, Web Bluetooth and WebCrypto are disabled on insecure pages"
                }
            },
        ),
        verdict(
            "rtcPeerConnection",
            probe.rtc_peer_connection,
            match p {
                Platform::Node => {
                    "Node.js has no WebRTC; run video calls in a browser or use the native peer"
                }
                _ => {
                    "this browser has no WebRTC (RTCPeerConnection); use a current Chrome, Edge, Firefox or Safari"
                }
            },
        ),
        verdict(
            "getUserMedia",
            probe.get_user_media,
            match p {
                Platform::Node => "Node.js has no camera or microphone access",
                _ if !probe.secure_context => insecure,
                Platform::Ios => {
                    "camera access needs iOS 14.3 or later; in an app, WKWebView needs allowsInlineMediaPlayback and the NSCameraUsageDescription and NSMicrophoneUsageDescription keys"
                }
                Platform::AndroidWebView => {
                    "the host app must grant camera and microphone: request CAMERA and RECORD_AUDIO and answer WebChromeClient.onPermissionRequest"
                }
                Platform::Browser => {
                    "this browser cannot open the camera or microphone (navigator.mediaDevices is missing)"
                }
            },
        ),
        verdict(
            "webBluetooth",
            probe.web_bluetooth,
            match p {
                Platform::Ios => {
                    "Web Bluetooth is not available in iOS browsers or webviews; use the device bridge from the host app"
                }
                Platform::AndroidWebView => {
                    "Web Bluetooth is not available in Android WebView; use the device bridge from the host app"
                }
                Platform::Node => {
                    "Node.js has no Web Bluetooth; push device bytes through the device bridge"
                }
                Platform::Browser if !probe.secure_context => insecure,
                Platform::Browser => {
                    "this browser has no Web Bluetooth (Firefox and Safari lack it; on Linux Chrome enables it only with a flag); use Chrome or Edge on Windows, macOS, ChromeOS or Android, or the device bridge"
                }
            },
        ),
        verdict(
            "indexedDb",
            probe.indexed_db,
            match p {
                Platform::Node => {
                    "Node.js has no IndexedDB; give the consent ledger a storage backend"
                }
                _ => {
                    "IndexedDB is unavailable (private browsing or storage disabled); the consent ledger will not survive a reload"
                }
            },
        ),
        verdict(
            "webCrypto",
            probe.web_crypto,
            match p {
                _ if !probe.secure_context && p != Platform::Node => insecure,
                _ => {
                    "WebCrypto (crypto.subtle) is missing; the device key cannot be kept non-extractable"
                }
            },
        ),
        verdict(
            "webSocket",
            probe.web_socket,
            match p {
                Platform::Node => {
                    "this Node.js has no global WebSocket; use Node.js 22 or pass a WebSocket implementation"
                }
                _ => "this browser has no WebSocket; the consultation cannot reach the relay",
            },
        ),
        verdict(
            "screenShare",
            probe.get_display_media,
            match p {
                Platform::Node => "Node.js has no screen capture",
                _ if !probe.secure_context => insecure,
                Platform::Ios => {
                    "iOS browsers and webviews cannot share the screen (no getDisplayMedia); share from a desktop browser"
                }
                Platform::AndroidWebView => {
                    "Android WebView cannot share the screen (no getDisplayMedia); share from a desktop browser"
                }
                Platform::Browser => {
                    "this browser cannot share the screen (no getDisplayMedia: mobile browsers lack it); share from a desktop Chrome, Edge, Firefox or Safari"
                }
            },
        ),
    ]
}

#[cfg(test)]
mod tests {

    #[test]
    fn contains_matches_str_contains() {
        let hay = "Mozilla/5.0 (Linux; Android 14; Pixel 8; wv) AppleWebKit/537.36";
        for needle in [
            "", "M", "Android", "; wv)", "wv)", "537.36", "537.37", "Pixel 9", hay,
        ] {
            assert_eq!(contains(hay, needle), hay.contains(needle), "{needle}");
        }
        assert!(!contains("", "a"));
        assert!(contains("", ""));
    }
    use super::*;

    fn full(platform: Platform) -> Probe {
        Probe {
            platform,
            secure_context: true,
            rtc_peer_connection: true,
            get_user_media: true,
            web_bluetooth: true,
            indexed_db: true,
            web_crypto: true,
            web_socket: true,
            get_display_media: true,
        }
    }

    #[test]
    fn a_complete_browser_has_every_capability_and_no_reasons() {
        let report = assess(&full(Platform::Browser));
        assert!(report.iter().all(|c| c.available && c.reason.is_none()));
        let names: Vec<_> = report.iter().map(|c| c.name).collect();
        assert_eq!(names, NAMES);
    }

    #[test]
    fn mobile_hosts_without_get_display_media_say_screen_sharing_is_unsupported() {
        for (platform, needle) in [
            (Platform::Ios, "iOS"),
            (Platform::AndroidWebView, "Android WebView"),
            (Platform::Browser, "mobile browsers lack it"),
            (Platform::Node, "Node.js"),
        ] {
            let report = assess(&Probe {
                get_display_media: false,
                ..full(platform)
            });
            let c = report.iter().find(|c| c.name == "screenShare").unwrap();
            assert!(!c.available, "{platform:?}");
            assert!(c.reason.unwrap().contains(needle), "{platform:?}");
        }
        let insecure = assess(&Probe {
            get_display_media: false,
            secure_context: false,
            ..full(Platform::Browser)
        });
        let c = insecure.iter().find(|c| c.name == "screenShare").unwrap();
        assert!(c.reason.unwrap().contains("HTTPS"));
    }

    #[test]
    fn ios_without_web_bluetooth_points_to_the_bridge() {
        let report = assess(&Probe {
            web_bluetooth: false,
            ..full(Platform::Ios)
        });
        let bt = report.iter().find(|c| c.name == "webBluetooth").unwrap();
        assert!(!bt.available);
        assert!(bt.reason.unwrap().contains("iOS"));
        assert!(bt.reason.unwrap().contains("device bridge"));
    }

    #[test]
    fn android_webview_camera_reason_names_the_permission_callback() {
        let report = assess(&Probe {
            get_user_media: false,
            ..full(Platform::AndroidWebView)
        });
        let gum = report.iter().find(|c| c.name == "getUserMedia").unwrap();
        assert!(gum.reason.unwrap().contains("onPermissionRequest"));
    }

    #[test]
    fn an_insecure_page_blames_https_not_the_browser() {
        let probe = Probe {
            secure_context: false,
            get_user_media: false,
            web_bluetooth: false,
            web_crypto: false,
            ..full(Platform::Browser)
        };
        let report = assess(&probe);
        for name in ["getUserMedia", "webBluetooth", "webCrypto"] {
            let c = report.iter().find(|c| c.name == name).unwrap();
            assert!(c.reason.unwrap().contains("HTTPS"), "{name}");
        }
    }

    #[test]
    fn platforms_are_told_apart_by_user_agent() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15";
        let ipad = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15";
        let wv = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A; wv) AppleWebKit/537.36";
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/156.0";
        assert_eq!(Platform::detect(iphone, false, true), Platform::Ios);
        assert_eq!(Platform::detect(ipad, false, true), Platform::Ios);
        assert_eq!(Platform::detect(ipad, false, false), Platform::Browser);
        assert_eq!(Platform::detect(wv, false, true), Platform::AndroidWebView);
        assert_eq!(Platform::detect(chrome, false, false), Platform::Browser);
        assert_eq!(Platform::detect("", true, false), Platform::Node);
    }

    #[test]
    fn only_mobile_webkit_and_android_webviews_switch_cameras_stop_first() {
        assert!(Platform::Ios.one_capture_per_kind());
        assert!(Platform::AndroidWebView.one_capture_per_kind());
        assert!(!Platform::Browser.one_capture_per_kind());
        assert!(!Platform::Node.one_capture_per_kind());
    }
}
