// Types of a consultation: joining, participants, states and events.
import type { ErrorCode } from './error-code.js';
import type { ChatMessage } from './chat.js';
import type { ConsentReason } from './consent.js';
import type { FileCancelReason, FileMediaType, SharedFileInfo } from './files.js';
import type { RecordingState, RecordingStopReason } from './recording.js';
import type { ScreenShareStopReason } from './screen.js';

/** A participant's role, as the join token grants it. */
export type ParticipantRole = "clinician" | "patient" | "guest";

/**
 * Where the consultation is, from this participant's point of view:
 * - `"connecting"`: reaching the relay, or negotiating media with a peer
 * - `"waiting"`: a patient or guest in the waiting room, until a clinician admits them
 * - `"admitted"`: in the call, nobody else connected yet
 * - `"connected"`: media flows with at least one other participant
 * - `"reconnecting"`: the relay connection dropped; resuming with fresh keys
 * - `"ended"`: see `endReason`
 */
export type ConsultationState =
  | "connecting"
  | "waiting"
  | "admitted"
  | "connected"
  | "reconnecting"
  | "ended";

/** Why a consultation ended. */
export type EndReason =
  | "hung-up" | "ended-by-clinician" | "denied" | "waiting-room-timeout" | "relay-refused";

/** Options of `Consultation.join`. */
export interface JoinOptions {
  /**
   * This participant's invite link from `createInvite`: the room id, the room secret and the
   * visit's role keys are read from its fragment (`#v=2&r=…&k=…&c=…&p=…[&s=…]`). A link made
   * by protocol version 1 is refused (`InvalidArgument`): ask for a new link.
   */
  link: string;
  /**
   * The relay's WebSocket URL, e.g. `wss://relay.example.com/ws`, or several relay nodes
   * sharing rooms (NATS) in order of preference, at most 16: when the connection drops the
   * SDK tries the same URL again, then the next one (after a failed attempt, or at once when
   * the relay closes with 4013 "shutting down"), wrapping around; the visit resumes without a
   * new admission. `ws://` only to a loopback host. See docs/RELAY.md, "Failover".
   */
  relayUrl: string | string[];
  /** The join token your backend minted for this participant (see docs/RELAY.md). */
  token: string;
  /** Must match the role in the token and the link (the clinician's, patient's or a guest link). */
  role: ParticipantRole;
  /** Shown to the other participants; sent only inside the encrypted channel. */
  displayName: string;
  /** STUN/TURN servers, as for `RTCPeerConnection`. */
  iceServers?: RTCIceServer[];
  /** `"relay"` forces TURN (hides the participants' IP addresses from each other). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * 16 hex digits; reuse it after a page reload to resume as the same participant. Without
   * it, a reload of a tab whose participant was admitted reuses the id kept with the tab's
   * resume ticket (`sessionStorage`), so the participant is let back in without a new
   * admission (`resumed` event; docs/PROTOCOL.md §11.6).
   */
  participantId?: string;
  /**
   * Whether a link that cannot carry video pauses it so that audio goes on (`videopaused` /
   * `videoresumed`), default `true`. With `false`, video is never paused for bandwidth;
   * `quality` events still report the link.
   */
  audioOnlyFallback?: boolean;
  /**
   * Camera and microphone to send from the start (for example the pre-call preview). The
   * consultation takes ownership: its tracks are stopped on hang-up. Without it, the call
   * still receives the others' audio and video; `startMedia()` can add local media later.
   */
  localStream?: MediaStream;
}

/** The short authentication string both sides read aloud. */
export interface Sas {
  /** Six digits, e.g. "042917". */
  digits: string;
  /** Seven emoji with their English names, for a visual comparison. */
  emoji: { emoji: string; name: string }[];
}

/** Another participant, as this side knows them. */
export interface Participant {
  id: string;
  role: ParticipantRole;
  /** Known once their encrypted hello arrived. */
  name?: string;
  /** The relay reports them connected. */
  present: boolean;
  /** In the call (admitted, or a clinician). */
  inCall: boolean;
  /** End-to-end keys are established. */
  secured: boolean;
  /** The media path is up. */
  connected: boolean;
  sas?: Sas;
  sasConfirmed: boolean;
  sasConfirmedByPeer: boolean;
  /**
   * With `sas`: the public value (64 hex digits) that names this SAS, the same on both sides;
   * `ConsentManager.recordSasConfirmed` records it.
   */
  sasBinding?: string;
}

/** The `detail` of each event a `Consultation` dispatches. */
export interface ConsultationEventMap {
  statechange: { state: ConsultationState; endReason?: EndReason };
  participantjoined: { participant: Participant };
  admissionrequested: { participant: Participant };
  participantadmitted: { participantId: string };
  participantdenied: { participantId: string };
  participantconnected: { participantId: string };
  participantleft: { participantId: string; reason: "left" | "lost" | "removed" | "restarted" };
  sas: { participantId: string; sas: Sas };
  sasconfirmed: { participantId: string };
  /** A participant came back after reloading its page, within a few minutes, with the ticket
   *  this visit gave it: it is let in again without a new admission (`participantadmitted`
   *  follows) and its SAS keeps the confirmations it had (no new `sas` prompt if both sides
   *  had confirmed). Show "reconnected". On the participant's side: the clinician let it back
   *  in. A ticket that does not qualify is a `security` event `"resume-refused"`, and the
   *  participant waits to be admitted as usual. */
  resumed: { participantId: string };
  /** A participant's track arrived. `screen`: it is the screen a clinician shares (its own
   *  `stream`, see `screensharestarted`); otherwise `stream` is the participant's camera and
   *  microphone stream. */
  track: { participantId: string; track: MediaStreamTrack; stream: MediaStream; screen: boolean };
  data: { participantId: string; data: Uint8Array };
  dataundelivered: { participantId: string; count: number };
  security: { kind: SecurityEventKind; participantId?: string; total: number };
  /** Every 2 s per connected participant; `packetLossPercent` is over the last interval. */
  quality: { participantId: string; level: "good" | "fair" | "poor"; videoPaused: boolean; rttMs?: number; packetLossPercent?: number; availableOutgoingKbps?: number; framesDecoded?: number };
  /** This participant's link and ours do not match (a wrong or garbled secret, or a link of
   *  another visit): its hellos cannot be opened, so no call with it can start. Once per
   *  participant, within a few seconds of it arriving. Rejoin with the right link. */
  linkmismatch: { participantId: string; role: ParticipantRole };
  /** The link cannot carry video, so video stops and audio goes on: this side stopped sending
   *  it to the participant (`direction: "sending"`), or the participant stopped sending it
   *  here (`"receiving"`). Show it on both sides. */
  videopaused: { participantId: string; reason: "bandwidth"; direction: "sending" | "receiving" };
  /** Bandwidth came back (or is tried again): video flows again in that direction. */
  videoresumed: { participantId: string; reason: "bandwidth"; direction: "sending" | "receiving" };
  /** `reason` says why a media path did not come up within 15 s (`NetworkError`): `"no-turn"`
   *  (no TURN server configured; a firewall or NAT blocks the direct path) or `"blocked"`
   *  (not even through TURN). ICE restarts go on; `participantconnected` follows if it works. */
  error: { code: ErrorCode; message: string; participantId?: string; relayCode?: number; iceErrorCode?: number; url?: string; reason?: "no-turn" | "blocked" };
  /** Consent no longer covers this local media (withdrawn, expired, new notice): it stopped. */
  localmediastopped: { kind: "audio" | "video"; reason: string };
  /** The browser ended this local track while the page was hidden (Safari, iOS): on coming
   *  back, the SDK opened the device again with the same constraints and sends `track` in
   *  its place, without renegotiating. `localStream` holds it; show it in a self-view. */
  localmediarestored: { kind: "audio" | "video"; track: MediaStreamTrack };
  /** An element attached with `attachMedia` may not play until the person interacts with
   *  the page (autoplay rules: Safari, WKWebView, Chromium's user-gesture policy). Call
   *  `resumePlayback()` from a click or tap handler. Once until playback works again. */
  playblocked: { participantId: string };
  // Recording (`Consultation.startRecording`).
  /** Someone started or stopped recording the call (this side, or a clinician elsewhere). */
  recording: RecordingState & { reason?: RecordingStopReason };
  // Chat (`Consultation.chat`).
  /** A message arrived (`history`: an earlier one, from the clinician, for a late joiner). */
  chatmessage: { message: ChatMessage; history: boolean };
  /** A participant received (or read) this side's messages up to `upto`. */
  chatreceipt: { participantId: string; state: "delivered" | "read"; upto: number };
  /** A participant started or stopped typing. */
  chattyping: { participantId: string; active: boolean };
  /** (Clinicians) Whether the earlier messages went to a participant just admitted; when not,
   *  `reason` is the patient's consent decision. */
  chathistory: { participantId: string; shared: boolean; count: number; reason?: ConsentReason };
  // Files (`Consultation.files`).
  /** A participant started sending a file to this side. */
  fileoffered: { transferId: string; participantId: string; name: string; type: FileMediaType; size: number };
  /** More of a file arrived (`incoming`) or was acknowledged by its recipient (`outgoing`). */
  fileprogress: { transferId: string; participantId: string; direction: "incoming" | "outgoing"; bytes: number; total: number };
  /** A file arrived whole, of its declared type and SHA-256. */
  filereceived: { file: SharedFileInfo; data: Uint8Array };
  /** The recipient confirmed it holds this side's file whole. */
  filedelivered: { file: SharedFileInfo };
  /** A transfer ended before completing; whatever was received of it is gone. */
  filecancelled: { transferId: string; participantId: string; direction: "incoming" | "outgoing"; reason: FileCancelReason };
  // Screen sharing.
  /** A clinician started sharing its screen: this side (`local: true`) or another. The
   *  screen's video arrives as a `track` event with `screen: true`. */
  screensharestarted: { participantId: string; local: boolean; streamId: string };
  /** The share ended. */
  screensharestopped: { participantId: string; local: boolean; reason: ScreenShareStopReason };
}

/** What a security event reports; the offending frame was dropped and changed nothing. */
export type SecurityEventKind =
  | "authentication-failed" | "replay" | "misrouted" | "role-conflict" | "protocol-violation"
  | "rate-limited" | "downgrade" | "sas-mismatch" | "malformed" | "handshake-timeout"
  | "resume-refused";
