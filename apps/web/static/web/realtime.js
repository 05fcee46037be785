// Realtime client: one WebSocket to /ws/connect on this origin, authenticated by the browser's session
// cookie. web/base.html loads it on every page of a logged-in owner; a page declares the rooms it wants
// with {% block realtime_rooms %} (the body's data-realtime-rooms), which are joined once the page's
// scripts have registered their handlers. Pages only react to the events it emits:
//
//   Realtime.on(type, handler)  Call handler(frame) for every frame of that type; returns an unsubscribe
//                               function. Frames are {type, data, timestamp}. Types: download_progress,
//                               download_complete, download_failed, queue_status, queue_started,
//                               queue_stopped, queue_paused, queue_resumed, system_info, system_warning,
//                               system_error, library_scan_progress, connected, error, and "*" (all frames).
//                               Pseudo-type "state": handler({state, attempt, delay, code}) where state is
//                               "connecting" | "open" | "reconnecting" | "logged_out" | "closed".
//                               (Realtime is an EventTarget: the same events, as CustomEvents whose
//                               detail is the frame, reach addEventListener(type, listener).)
//   Realtime.off(type, handler)
//   Realtime.join(room)         Subscribe to a room: downloads, queue, system, library or series:<id>.
//                               Remembered: re-joined after every reconnect. Connects if needed.
//   Realtime.leave(room)
//   Realtime.connect()          Open the socket (idempotent).
//   Realtime.close()            Close it and stop reconnecting.
//   Realtime.state, Realtime.connectionId, Realtime.rooms (a copy)
//
// After every (re)connect the client re-joins its rooms and fetches GET /api/queue/status, handing the
// answer to "queue_status" handlers as a frame with data = the response body (404/503 are ignored), so
// nothing missed while disconnected stays stale. Lost connections are retried with exponential backoff
// and jitter (1 s doubling to 30 s); a close with 4401 (logged out) stops retrying. A ping goes out
// every ping_seconds (from the connected frame); no pong within 10 s counts as a lost connection.
(function () {
  "use strict";

  const BASE_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;
  const PONG_TIMEOUT_MS = 10000;
  const CLOSE_LOGGED_OUT = 4401;
  const QUEUE_STATUS_URL = "/api/queue/status";

  const bus = new EventTarget();
  const wrapped = new Map(); // handler -> its listener, per type, for off()
  const rooms = new Set();
  let socket = null;
  let state = "closed";
  let wanted = false;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;
  let pongTimer = null;
  let connectionId = null;

  function emit(type, payload) {
    bus.dispatchEvent(new CustomEvent(type, { detail: payload }));
    if (type !== "state") bus.dispatchEvent(new CustomEvent("*", { detail: payload }));
  }

  function on(type, handler) {
    const listener = function (event) {
      try {
        handler(event.detail);
      } catch (error) {
        console.error("Realtime handler for", type, "failed:", error);
      }
    };
    if (!wrapped.has(type)) wrapped.set(type, new Map());
    wrapped.get(type).set(handler, listener);
    bus.addEventListener(type, listener);
    return function () {
      off(type, handler);
    };
  }

  function off(type, handler) {
    const listeners = wrapped.get(type);
    const listener = listeners && listeners.get(handler);
    if (!listener) return;
    listeners.delete(handler);
    bus.removeEventListener(type, listener);
  }

  function setState(next, extra) {
    state = next;
    emit("state", Object.assign({ state: next, attempt: attempt }, extra || {}));
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function socketUrl() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + "/ws/connect";
  }

  function stopTimers() {
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    clearTimeout(pongTimer);
    retryTimer = pingTimer = pongTimer = null;
  }

  function startHeartbeat(seconds) {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      if (!send({ action: "ping" })) return;
      clearTimeout(pongTimer);
      pongTimer = setTimeout(function () {
        if (socket) lost(socket, 4000); // a dead link may not fire onclose for minutes
      }, PONG_TIMEOUT_MS);
    }, Math.max(5, seconds || 25) * 1000);
  }

  function refreshQueueStatus() {
    fetch(QUEUE_STATUS_URL, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) return null; // 404 (no queue yet) and 503 (not ready) are not errors here
        return response.json();
      })
      .then(function (body) {
        if (body) emit("queue_status", { type: "queue_status", data: body, timestamp: new Date().toISOString() });
      })
      .catch(function () {});
  }

  function onOpenFrame(frame) {
    attempt = 0;
    connectionId = frame.data.connection_id;
    rooms.forEach(function (room) {
      send({ action: "join", room: room });
    });
    startHeartbeat(frame.data.ping_seconds);
    setState("open");
    refreshQueueStatus();
  }

  function scheduleReconnect(code) {
    const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * Math.pow(2, attempt));
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
    attempt += 1;
    setState("reconnecting", { delay: delay, code: code });
    retryTimer = setTimeout(open, delay);
  }

  function open() {
    retryTimer = null;
    if (!wanted || (socket && socket.readyState <= WebSocket.OPEN)) return;
    setState("connecting");
    const ws = new WebSocket(socketUrl());
    socket = ws;
    ws.onmessage = function (event) {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "pong") clearTimeout(pongTimer);
      if (frame.type === "connected") onOpenFrame(frame);
      if (frame.type === "download_progress_batch" && frame.data && Array.isArray(frame.data.items)) {
        // Progress of several downloads in one frame: handlers still see one download_progress each.
        for (const data of frame.data.items) emit("download_progress", { type: "download_progress", data, timestamp: frame.timestamp });
        return;
      }
      emit(frame.type, frame);
    };
    ws.onclose = function (event) {
      lost(ws, event.code);
    };
    ws.onerror = function () {
      lost(ws, 1006); // browsers follow with a close event; some runtimes never do after a failed handshake
    };
  }

  function lost(ws, code) {
    if (socket !== ws) return;
    socket = null;
    connectionId = null;
    stopTimers();
    if (ws.readyState !== WebSocket.CLOSED) ws.close();
    if (!wanted) {
      setState("closed", { code: code });
    } else if (code === CLOSE_LOGGED_OUT) {
      wanted = false;
      setState("logged_out", { code: code });
    } else {
      scheduleReconnect(code);
    }
  }

  function reconnectNow() {
    if (wanted && !socket) {
      clearTimeout(retryTimer);
      attempt = 0;
      open();
    }
  }

  window.addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") reconnectNow();
  });

  window.Realtime = {
    on: on,
    off: off,
    addEventListener: bus.addEventListener.bind(bus),
    removeEventListener: bus.removeEventListener.bind(bus),
    join: function (room) {
      rooms.add(room);
      if (!send({ action: "join", room: room })) window.Realtime.connect();
    },
    leave: function (room) {
      rooms.delete(room);
      send({ action: "leave", room: room });
    },
    connect: function () {
      wanted = true;
      if (!socket && !retryTimer) open();
    },
    close: function () {
      wanted = false;
      stopTimers();
      if (socket) socket.close(1000, "client closed");
    },
    get state() {
      return state;
    },
    get connectionId() {
      return connectionId;
    },
    get rooms() {
      return [...rooms];
    },
  };

  function joinDeclaredRooms() {
    const declared = document.body && document.body.dataset.realtimeRooms;
    (declared || "").split(/\s+/).filter(Boolean).forEach(window.Realtime.join);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", joinDeclaredRooms);
  else joinDeclaredRooms();
})();
