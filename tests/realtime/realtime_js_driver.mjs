// Runs apps/web/static/web/realtime.js under Node (20: --experimental-websocket) against a live web process, as a
// logged-in browser tab would: the session cookie and the page's Origin go with the socket and with fetch().
//   node --experimental-websocket realtime_js_driver.mjs <base url> <session key>
// stdin, one JSON command a line: {"join": "downloads"} | {"leave": "downloads"} | {"close": true}
// stdout, one JSON line per thing seen: {"frame": {...}} for every frame handed to handlers, {"state": {...}}.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const [base, sessionKey] = process.argv.slice(2);
const page = new URL(base);
const cookie = "sessionid=" + sessionKey;
const NativeWebSocket = globalThis.WebSocket;
const nativeFetch = globalThis.fetch;

class BrowserTabWebSocket extends NativeWebSocket {
  constructor(url) {
    super(url, { headers: { Cookie: cookie, Origin: page.origin } });
  }
}

const listeners = {};
globalThis.window = globalThis;
globalThis.location = { protocol: page.protocol, host: page.host };
globalThis.addEventListener = (type, fn) => ((listeners[type] ||= []).push(fn));
globalThis.document = { visibilityState: "visible", addEventListener: globalThis.addEventListener };
globalThis.WebSocket = BrowserTabWebSocket;
globalThis.fetch = (url, init = {}) =>
  nativeFetch(new URL(url, page), { ...init, headers: { ...(init.headers || {}), Cookie: cookie } });

const here = path.dirname(fileURLToPath(import.meta.url));
const source = fs.readFileSync(path.join(here, "..", "..", "apps", "web", "static", "web", "realtime.js"), "utf8");
(0, eval)(source);

const out = (thing) => process.stdout.write(JSON.stringify(thing) + "\n");
window.Realtime.on("*", (frame) => out({ frame }));
window.Realtime.on("state", (state) => out({ state }));

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.join) window.Realtime.join(command.join);
  if (command.leave) window.Realtime.leave(command.leave);
  if (command.close) {
    window.Realtime.close();
    setTimeout(() => process.exit(0), 200);
  }
});
