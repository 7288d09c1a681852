// Binnen- en buitenkring: wording shared by its phone, projector and facilitator renderers.

import { t } from "../render.js";

/** t(key, vars), or t(`${key}_one`, vars) when `vars.n` is 1 ("1 cijfer", "1 person"). */
export function tn(key, vars) {
  const one = `${key}_one`;
  return vars.n === 1 && t(one) !== one ? t(one, vars) : t(key, vars);
}

/** The projector's and facilitator's line about the last turn: how far the outer circle moved,
 * and the number the facilitator asked for when the server moved further (new partners). */
export function shiftText(shift, requested = 0) {
  if (requested && requested !== shift) {
    return t("kring_screen_shift_other", { places: tn("kring_places_n", { n: shift }), requested });
  }
  return shift === 1 ? t("kring_screen_shift_one") : t("kring_screen_shift", { n: shift });
}
