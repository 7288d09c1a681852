// Binnen- en buitenkring: wording shared by its phone, projector and facilitator renderers.

import { t } from "../render.js";

/** The projector's and facilitator's line about the last turn: how far the outer circle moved,
 * and the number the facilitator asked for when the server moved further (new partners). */
export function shiftText(shift, requested = 0) {
  if (requested && requested !== shift) {
    return t("kring_screen_shift_other", { places: t("kring_places_n", { n: shift }), requested });
  }
  return t("kring_screen_shift", { n: shift }); // "1 plaats" from kring_screen_shift_one
}

/** What last changed the circles, for the projector and the facilitator: the turn, or (after a
 * join or a leave since then) that the circles were rearranged; "" in round 1 before either. */
export function lastChange(view) {
  if (view.reseated) return t("kring_screen_reseated");
  return view.round > 1 && view.shift ? shiftText(view.shift, view.requested) : "";
}
