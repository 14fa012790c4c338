// Remote media playback under the autoplay rules of Safari, WKWebView and Chromium's
// `user-gesture-required` policy (docs/BROWSERS.md, "Safari and WKWebView rules"): an element
// the SDK attaches plays inline; a `play()` the browser refuses for want of a user gesture
// raises one `playblocked` event, which the app answers with `resumePlayback()` from a click
// or tap; and when the page comes back from the background (iOS pauses media there), every
// attached element plays again.

/** What `Playback` needs from its consultation: the participant's stream and its events. */
export interface PlaybackSource {
  remoteStream(participantId: string): MediaStream | undefined;
  addEventListener(type: 'track', listener: (event: CustomEvent<{ participantId: string }>) => void): void;
}

/** The attached elements of one consultation, and its `playblocked` events. */
export class Playback {
  readonly #attached = new Map<HTMLMediaElement, string>();
  readonly #events: EventTarget;
  readonly #source: PlaybackSource;
  /** A `playblocked` event is out and no play has worked since: do not repeat it. */
  #blocked = false;
  readonly #onVisible = () => {
    if (globalThis.document?.visibilityState === 'visible') this.#playAll();
  };

  constructor(source: PlaybackSource, events: EventTarget) {
    this.#source = source;
    this.#events = events;
    source.addEventListener('track', (e) => {
      for (const [element, id] of this.#attached) if (id === e.detail.participantId) this.#show(element, id);
    });
    globalThis.document?.addEventListener('visibilitychange', this.#onVisible);
  }

  attach(element: HTMLMediaElement, participantId: string): void {
    this.#attached.set(element, participantId);
    element.autoplay = true;
    // iOS plays a <video> without it full screen; the attribute too, for older WebKit.
    if ('playsInline' in element) (element as HTMLVideoElement).playsInline = true;
    element.setAttribute('playsinline', '');
    this.#show(element, participantId);
  }

  detach(element: HTMLMediaElement): void {
    if (this.#attached.delete(element)) element.srcObject = null;
  }

  /** Plays every attached element; call it from a user gesture after `playblocked`. */
  async resume(): Promise<boolean> {
    this.#blocked = false;
    const results = await Promise.all([...this.#attached.keys()].map((e) => this.#play(e)));
    return results.every(Boolean);
  }

  close(): void {
    globalThis.document?.removeEventListener('visibilitychange', this.#onVisible);
    for (const element of this.#attached.keys()) element.srcObject = null;
    this.#attached.clear();
  }

  #show(element: HTMLMediaElement, participantId: string): void {
    const stream = this.#source.remoteStream(participantId) ?? null;
    if (element.srcObject !== stream) element.srcObject = stream;
    if (stream) void this.#play(element);
  }

  #playAll(): void {
    for (const element of this.#attached.keys()) if (element.srcObject) void this.#play(element);
  }

  /** Plays `element`; true when it plays. A refusal for want of a gesture is reported once. */
  async #play(element: HTMLMediaElement): Promise<boolean> {
    const participantId = this.#attached.get(element);
    if (participantId === undefined || !element.srcObject) return false;
    try {
      await element.play();
      this.#blocked = false;
      return true;
    } catch (err) {
      if ((err as { name?: string })?.name === 'NotAllowedError' && !this.#blocked) {
        this.#blocked = true;
        this.#events.dispatchEvent(new CustomEvent('playblocked', { detail: { participantId } }));
      }
      return false;
    }
  }
}
