// The address bar and the history entry of an invite link: read once, then the fragment (the
// room secret) is removed with history.replaceState so that it is not shown on a shared screen,
// kept in the tab's history or bookmarked. Only the IO is here; src/web/link.rs decides.

/** The page's full URL when it has a fragment; undefined elsewhere (Node.js, no fragment). */
export function locationWithFragment() {
  const loc = globalThis.location;
  return loc && loc.hash && loc.hash.length > 1 ? String(loc.href) : undefined;
}

/** Replaces the current history entry with the same URL without its fragment (state kept). */
export function dropFragment() {
  const { history, location } = globalThis;
  if (!history?.replaceState || !location) return false;
  history.replaceState(history.state, '', location.pathname + location.search);
  return true;
}
