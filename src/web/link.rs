//! The invite link in the address bar: `takeInviteLink()` reads it once and removes the
//! fragment — the room secret — from the address bar and the history entry
//! (`history.replaceState`), so that a shared screen, the tab's history or a bookmark never
//! shows it (issue 13, point 8).

use wasm_bindgen::prelude::*;

use crate::signaling::Invite;

#[wasm_bindgen(module = "/src/web/snippets/link.js")]
extern "C" {
    #[wasm_bindgen(js_name = locationWithFragment)]
    fn location_with_fragment() -> Option<String>;
    #[wasm_bindgen(js_name = dropFragment)]
    fn drop_fragment() -> bool;
}

/// Reads the invite link this page was opened with, then removes its fragment from the address
/// bar and the current history entry (`history.replaceState`; the path, query and history
/// state stay). Returns the full link, to pass to `Consultation.join({ link })` and to keep in
/// memory (or `sessionStorage`, for a reload of the tab); `undefined` when the page's fragment
/// is not an invite (then nothing is changed) or outside a browser page.
#[wasm_bindgen(js_name = takeInviteLink)]
pub fn take_invite_link() -> Option<String> {
    let href = location_with_fragment()?;
    // Only an invite fragment is taken: an app's own fragment routing is left alone.
    Invite::parse(&href).ok()?;
    drop_fragment();
    Some(href)
}
