// Lists of people on the facilitator's page, shared by the werkvormen's host renderers.

import { el } from "../render.js";

/** Whom the facilitator waits for, as the server lists them (`{name, online, …}`, the connected
 * first; at most 60, `more` besides): a line of the connected and a line of the offline, each a
 * bold label and the people (`show(person)`: a text or a node); `more` ends the last line
 * (`moreText(n)`). Nothing for an empty list. */
export function waitingLines({ people, more = 0, id, cls, labels, show, moreText }) {
  const online = people.filter((p) => p.online);
  const offline = people.filter((p) => !p.online);
  const line = (lineId, label, list, extra) =>
    list.length || extra
      ? el(
          "p",
          { class: cls, id: lineId },
          el("strong", null, label),
          " ",
          list.flatMap((p, i) => [i ? ", " : "", show(p)]),
          extra ? ` ${moreText(extra)}` : "",
        )
      : null;
  return [
    line(id, labels[0], online, offline.length ? 0 : more),
    line(`${id}-offline`, labels[1], offline, offline.length ? more : 0),
  ];
}
