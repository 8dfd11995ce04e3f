// An independent check of `rooms bench doc` (wsload speaks chat frames, not document edits):
// EDITORS clients of the JavaScript DocumentClient (clients/js/rooms.js) edit one document, each
// making its next edit as soon as the last is acknowledged (as `rooms bench doc`'s editors do),
// and the room's version growth is the operations stored per second.
//
//   node Benchmarks/load/doc-editors.mjs ws://127.0.0.1:PORT [EDITORS=20] [SECONDS=10] [WARMUP=2]
//
// Prints one JSON line: {editors, seconds, versionsPerSecond, editsPerSecond, converged}.
import { createRequire } from "node:module";
import { connectDocument } from "../../clients/js/rooms.js";

const [base, editorsArg = "20", secondsArg = "10", warmupArg = "2"] = process.argv.slice(2);
if (!base) {
  console.error("usage: node Benchmarks/load/doc-editors.mjs ws://127.0.0.1:PORT [EDITORS] [SECONDS] [WARMUP]");
  process.exit(2);
}
const WebSocket = globalThis.WebSocket ?? createRequire(import.meta.url)("/usr/share/nodejs/ws");
const room = `load-${Date.now().toString(36)}`;
const editors = Array.from({ length: Number(editorsArg) }, (_, i) =>
  connectDocument(`${base}/rooms/doc/${room}/ws?user=e${i}`, { WebSocket }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
while (!editors.every((editor) => editor.loaded)) await sleep(10);

let edits = 0;
let running = true;
// Each editor makes its next edit as soon as the last one is acknowledged, as a fast typist's
// OT client would: an insert at a random place, or a delete once the text is long.
function edit(editor) {
  if (!running) return;
  const text = editor.text;
  const at = Math.floor(Math.random() * (text.length + 1));
  if (text.length > 20000 && Math.random() < 0.5) editor.replace(Math.max(0, at - 16), at, "");
  else editor.replace(at, at, "0123456789abcdef");
  edits += 1;
}
for (const editor of editors) {
  editor.on("pending", (pending) => { if (!pending) setImmediate(() => edit(editor)); });
  edit(editor);
}
await sleep(Number(warmupArg) * 1000);
const startVersion = Math.max(...editors.map((editor) => editor.version));
const startEdits = edits;
const started = Date.now();
await sleep(Number(secondsArg) * 1000);
const seconds = (Date.now() - started) / 1000;
const endVersion = Math.max(...editors.map((editor) => editor.version));
const madeEdits = edits - startEdits;
running = false;
const deadline = Date.now() + 30000;
while (Date.now() < deadline && !editors.every((editor) => !editor.pending && editor.version === editors[0].version)) await sleep(20);
const converged = editors.every((editor) => editor.text === editors[0].text && !editor.pending);
console.log(JSON.stringify({
  editors: editors.length, seconds, versionsPerSecond: Math.round((endVersion - startVersion) / seconds),
  editsPerSecond: Math.round(madeEdits / seconds), converged,
}));
for (const editor of editors) editor.close();
process.exit(converged ? 0 : 1);
