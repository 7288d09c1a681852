// An input the server acknowledged, kept in view until the phone's own frame (`me`) shows it.
//
// A `me` rendered from a read of the room just before the input was stored can arrive after the
// input's ack (a busy server paces its renders up to about a second apart); it must not take the
// input back off the screen. Bounded: should no `me` ever show it (the same player changed it on
// a second phone), the server's copy counts again after HOLD_MS. See docs/PROTOCOL.md, "input".

export const HOLD_MS = 3000;

export class AckHold {
  /** `onExpire()`: the hold ran out without a `me` showing the value (redraw from `me`). */
  constructor(onExpire) {
    this.onExpire = onExpire;
    this.value = null;
    this.timer = null;
  }

  /** The server acknowledged `value`: it outranks a `me` that differs, for HOLD_MS at most. */
  hold(value) {
    this.value = value;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.value = null;
      this.timer = null;
      this.onExpire();
    }, HOLD_MS);
  }

  /** A `me` showed the value, or what was held no longer matters (a new phase, a reset). */
  release() {
    this.value = null;
    clearTimeout(this.timer);
    this.timer = null;
  }

  get active() {
    return this.value !== null;
  }
}
