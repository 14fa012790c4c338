// A pre-call check page: what an integrator writes first with the `teleconsult` package.
// The package's entry awaits its WebAssembly init at top level, so by the time these imports
// resolve every function is ready to call synchronously.
import { capabilities, ErrorCode, requireCapabilities, version } from 'teleconsult';
import type { Capabilities, CapabilityName, TeleconsultError } from 'teleconsult';

/** What a video consultation needs from the browser. */
const CALL_NEEDS: CapabilityName[] = ['secureContext', 'rtcPeerConnection', 'getUserMedia', 'webSocket'];
/** What capturing readings from a Bluetooth medical device needs on top. */
const DEVICE_NEEDS: CapabilityName[] = ['webBluetooth'];

/**
 * The package declares `TeleconsultError` as an interface (the errors are plain `Error`s with
 * `name === "TeleconsultError"` and a `code`), so there is no class to `instanceof`: this is
 * the guard every app has to write.
 */
function isTeleconsultError(err: unknown): err is TeleconsultError {
  return (
    err instanceof Error &&
    err.name === 'TeleconsultError' &&
    'code' in err &&
    (err.code === ErrorCode.Unsupported || err.code === ErrorCode.InvalidArgument)
  );
}

/** The outcome of one `requireCapabilities` call, ready to render. */
type Check =
  | { ok: true }
  | { ok: false; code: ErrorCode; advice: string; message: string };

function check(names: CapabilityName[]): Check {
  try {
    requireCapabilities(names);
    return { ok: true };
  } catch (err: unknown) {
    if (!isTeleconsultError(err)) throw err;
    switch (err.code) {
      case ErrorCode.Unsupported:
        return {
          ok: false,
          code: err.code,
          advice: 'This browser cannot do this part of the consultation.',
          message: err.message,
        };
      case ErrorCode.InvalidArgument:
        return {
          ok: false,
          code: err.code,
          advice: 'The app asked for a capability the SDK does not know (a bug in the app).',
          message: err.message,
        };
      default:
        // requireCapabilities throws only the two codes above; anything else is a bug.
        throw err;
    }
  }
}

/** `document.createElement` with text content; SDK strings are never parsed as HTML. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  className?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className !== undefined) node.className = className;
  return node;
}

function capabilityTable(caps: Capabilities): HTMLTableElement {
  const table = el('table');
  const head = table.createTHead().insertRow();
  for (const title of ['Capability', 'Available', 'Why not']) head.append(el('th', title));
  const body = table.createTBody();
  const names = Object.keys(caps).filter((k): k is CapabilityName => k !== 'platform');
  for (const name of names) {
    const cap = caps[name];
    const row = body.insertRow();
    row.dataset['capability'] = name;
    row.append(
      el('td', name),
      el('td', cap.available ? 'yes' : 'no', cap.available ? 'ok' : 'missing'),
      el('td', cap.reason ?? ''),
    );
  }
  return table;
}

function checkSection(title: string, names: CapabilityName[], result: Check): HTMLElement {
  const section = el('section');
  section.dataset['check'] = title;
  section.append(el('h2', `${title}: ${names.join(', ')}`));
  if (result.ok) {
    section.append(el('p', 'Ready.', 'ok'));
  } else {
    section.dataset['code'] = result.code;
    section.append(el('p', `${result.advice} (${result.code})`, 'missing'), el('p', result.message));
  }
  return section;
}

function render(root: HTMLElement): void {
  const caps = capabilities();
  const summary = el('p', `teleconsult ${version()} on platform "${caps.platform}"`);
  summary.id = 'version';
  root.replaceChildren(
    summary,
    capabilityTable(caps),
    checkSection('Video consultation', CALL_NEEDS, check(CALL_NEEDS)),
    checkSection('Bluetooth devices', DEVICE_NEEDS, check(DEVICE_NEEDS)),
  );
  root.dataset['ready'] = 'true';
}

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
render(root);
