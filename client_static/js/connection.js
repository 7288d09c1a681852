// One websocket to the server for any role: msgpack frames, hello on every (re)connect,
// jittered backoff, app-level ping to notice dead guest-Wi-Fi sockets, stale-view filter.
//
// The page keeps no game state: it renders the latest `view` (and `me`) this module hands it.

import { encode } from "../vendor/msgpack/encode.mjs";
import { decode } from "../vendor/msgpack/decode.mjs";

const BACKOFF_S = [0.5, 1, 2, 4, 8]; // then 8 s forever
const JITTER = 0.3; // ± 30 %
const PING_EVERY_MS = 10_000;
const PONG_TIMEOUT_MS = 5_000;
const HELLO_TIMEOUT_MS = 8_000;
const CLOSE_KICKED = 4001;

/** Delay before reconnect attempt `n` (0-based), in ms, with ± 30 % jitter. */
export function backoffDelay(n) {
  const base = BACKOFF_S[Math.min(n, BACKOFF_S.length - 1)] * 1000;
  return Math.round(base * (1 - JITTER + Math.random() * 2 * JITTER));
}

/**
 * The websocket's address. `room` goes into the query (`/ws?room=CODE`) only so that a load
 * balancer can keep a room's sockets on one server (docs/DEPLOYING.md); the server reads the
 * room from the hello.
 */
export function socketUrl(room = "", path = "/ws") {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = room ? `?room=${encodeURIComponent(room)}` : "";
  return `${scheme}//${location.host}${path}${query}`;
}

/**
 * new Connection({
 *   hello: () => ({role: "phone", room, token}),   // built fresh for every (re)connect
 *   onWelcome, onView, onMe, onAck, onError, onPong,  // (msg) => void
 *   onState,   // ("connecting" | "open" | "reconnecting" | "offline" | "closed") => void
 * }).start()
 */
export class Connection {
  constructor(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.welcomed = false;
    this.everWelcomed = false;
    this.stopped = true;
    this.viewV = -1;
    this.meV = -1;
    this.queue = [];
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.helloTimer = null;
    this.dispatch = {
      welcome: (msg) => this.onWelcome(msg),
      view: (msg) => this.onVersioned(msg, "viewV", "onView"),
      me: (msg) => this.onVersioned(msg, "meV", "onMe"),
      ack: (msg) => this.call("onAck", msg),
      done: (msg) => this.call("onDone", msg),
      error: (msg) => this.call("onError", msg),
      pong: (msg) => this.call("onPong", msg),
    };
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.checkNow();
    };
    this.onOnline = () => this.checkNow();
    this.onOffline = () => {
      if (this.stopped) return;
      this.setState("offline");
      this.checkNow();
    };
  }

  start() {
    if (!this.stopped) return this;
    this.stopped = false;
    document.addEventListener("visibilitychange", this.onVisible);
    window.addEventListener("online", this.onOnline);
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("pageshow", this.onVisible);
    this.open();
    return this;
  }

  /** Stop for good (kicked, room gone, leaving the page state). */
  stop() {
    this.stopped = true;
    document.removeEventListener("visibilitychange", this.onVisible);
    window.removeEventListener("online", this.onOnline);
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("pageshow", this.onVisible);
    this.clearTimers();
    this.queue = [];
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      detach(ws);
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
    this.setState("closed");
  }

  /** Forget the versions seen, e.g. after moving to another room. */
  resetVersions() {
    this.viewV = -1;
    this.meV = -1;
  }

  /**
   * Send a frame. Before `welcome` (or while reconnecting) frames are queued and sent right
   * after the next welcome; the server refuses duplicates (e.g. already_answered), so a
   * queued answer is safe. With `queue: false` such a frame is dropped instead (the caller
   * sends it again itself when it still applies). Returns true when sent immediately.
   */
  send(msg, { queue = true } = {}) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.welcomed) {
      this.ws.send(encode(msg));
      return true;
    }
    if (!queue) return false;
    const same = JSON.stringify(msg);
    this.queue = this.queue
      .filter((m) => !(msg.type === "input" && m.type === "input" && m.item === msg.item) && JSON.stringify(m) !== same)
      .concat([msg])
      .slice(-10);
    return false;
  }

  /** Send another hello on the open socket (e.g. after an error on the first one). */
  rehello() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.sendHello(this.ws);
    } else {
      this.reconnectNow();
    }
  }

  // ------------------------------------------------------------ internals

  call(name, msg) {
    const fn = this.handlers[name];
    if (fn) fn(msg);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.call("onState", state);
  }

  open() {
    if (this.stopped) return;
    this.clearTimers();
    this.welcomed = false;
    if (this.state !== "reconnecting" && this.state !== "offline") {
      this.setState(this.everWelcomed ? "reconnecting" : "connecting");
    }
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.handlers.hello().room));
    } catch {
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.sendHello(ws);
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.onFrame(event.data);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.welcomed = false;
      this.clearTimers();
      if (event.code === CLOSE_KICKED) {
        // The error/kicked frame came first; the page decides what to show.
        this.stopped = true;
        this.setState("closed");
        return;
      }
      this.scheduleReconnect();
    };
    ws.onerror = () => {
      /* onclose follows and schedules the reconnect */
    };
  }

  sendHello(ws) {
    const hello = { type: "hello", ...this.handlers.hello() };
    ws.send(encode(hello));
    clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => this.drop(), HELLO_TIMEOUT_MS);
  }

  onFrame(data) {
    if (!(data instanceof ArrayBuffer)) return; // the server sends binary frames only
    let msg;
    try {
      msg = decode(new Uint8Array(data));
    } catch (err) {
      console.warn("kenniskring: undecodable frame", err);
      return;
    }
    if (!msg || typeof msg !== "object" || typeof msg.type !== "string") return;
    // Any frame proves the socket is alive.
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
    if (this.welcomed && this.state !== "open") this.setState("open");
    if (msg.type === "error") clearTimeout(this.helloTimer);
    const handler = this.dispatch[msg.type];
    if (handler) handler(msg);
    else console.warn("kenniskring: unknown frame type", msg.type);
  }

  onWelcome(msg) {
    clearTimeout(this.helloTimer);
    this.welcomed = true;
    this.everWelcomed = true;
    this.attempt = 0;
    this.setState("open");
    this.call("onWelcome", msg);
    const queued = this.queue;
    this.queue = [];
    for (const m of queued) this.send(m);
    this.schedulePing();
  }

  onVersioned(msg, field, handler) {
    const v = typeof msg.v === "number" ? msg.v : 0;
    if (v < this[field]) return; // older than what is on screen: a late or duplicate frame
    this[field] = v;
    this.call(handler, msg);
  }

  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.ping(), PING_EVERY_MS);
  }

  ping() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    try {
      ws.send(encode({ type: "ping" }));
    } catch {
      this.drop();
      return;
    }
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => this.drop(), PONG_TIMEOUT_MS);
    if (this.welcomed) this.schedulePing();
  }

  /** The socket looks open but is dead (no pong): close it and reconnect now. */
  drop() {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    this.clearTimers();
    if (ws) {
      detach(ws);
      try {
        ws.close(4000);
      } catch {
        /* ignore */
      }
    }
    if (this.stopped) return;
    this.setState("reconnecting");
    this.scheduleReconnect();
  }

  /** Screen unlocked or network back: check the socket right away instead of waiting. */
  checkNow() {
    if (this.stopped) return;
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.welcomed) {
      this.ping(); // a dead socket is noticed within PONG_TIMEOUT_MS
    } else if (!this.ws || this.ws.readyState !== WebSocket.CONNECTING) {
      this.reconnectNow();
    }
  }

  reconnectNow() {
    this.attempt = 0;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      detach(ws);
      try {
        ws.close(4000);
      } catch {
        /* ignore */
      }
    }
    this.open();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.setState(navigator.onLine === false ? "offline" : "reconnecting");
    clearTimeout(this.reconnectTimer);
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.open();
    }, delay);
  }

  clearTimers() {
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.helloTimer);
    clearTimeout(this.reconnectTimer);
    this.pingTimer = this.pongTimer = this.helloTimer = this.reconnectTimer = null;
  }
}

function detach(ws) {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}
