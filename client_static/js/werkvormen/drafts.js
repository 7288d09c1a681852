// What a player typed or chose on a phone and did not send yet, kept for this tab per room and
// programme item: it survives a reload, or a cheap phone dropping the tab while its camera or
// chat app was open. sessionStorage: gone with the tab, never shared with another tab.

function key(ctx, name) {
  return `kk:draft:${ctx.code}:${ctx.view.item || 0}:${name}`;
}

/** Keep `value` (JSON) as this item's draft `name`. */
export function keepDraft(ctx, name, value) {
  try {
    sessionStorage.setItem(key(ctx, name), JSON.stringify(value));
  } catch {
    /* private mode or full: the draft lives as long as the page */
  }
}

/** The draft `name` kept for this item, or null. */
export function keptDraft(ctx, name) {
  try {
    return JSON.parse(sessionStorage.getItem(key(ctx, name)) || "null");
  } catch {
    return null;
  }
}

/** The draft was sent (or can no longer be): forget it. */
export function dropDraft(ctx, name) {
  try {
    sessionStorage.removeItem(key(ctx, name));
  } catch {
    /* nothing kept */
  }
}
