// Types of screen sharing (`Consultation.startScreenShare`).
/** Options of `Consultation.startScreenShare`. */
export interface ScreenShareOptions {
  /** `"keep"` (default): the camera goes on alongside the screen. `"pause"`: the camera
   *  sends black frames while the screen is shared, and comes back when it stops. */
  camera?: "keep" | "pause";
}

/**
 * Why a screen share ended:
 * - `"stopped"`: `stopScreenShare()` was called
 * - `"ended"`: the browser's own "stop sharing" control, or the shared window closed
 * - `"left"`: the sharing clinician left the call
 * - `"hung-up"`: this side left the call
 */
export type ScreenShareStopReason =
  | "stopped"
  | "ended"
  | "left"
  | "hung-up";
