// The peer of `rooms bench fanout --raw --peer node`: a plain WebSocket broadcast server on
// Node's `ws` (Debian: apt-get install node-ws). Clients connected to the same URL path form a
// room; every text frame a client sends is sent, as is, to every client of its room, the sender
// included: what DurableRooms' `relay` room class does.
//
//   NODE_PATH=/usr/share/nodejs node Benchmarks/peers/node-ws-broadcast.js [PORT]
'use strict';
const http = require('http');
const WebSocket = require('ws');

const port = Number(process.argv[2] || 0);
const server = http.createServer((request, response) => {
  response.writeHead(request.url === '/healthz' ? 200 : 404);
  response.end();
});
const wss = new WebSocket.Server({ server, perMessageDeflate: false, maxPayload: 1 << 20 });
const rooms = new Map();

wss.on('connection', (socket, request) => {
  const path = request.url.split('?')[0];
  let room = rooms.get(path);
  if (!room) {
    room = new Set();
    rooms.set(path, room);
  }
  room.add(socket);
  socket.on('message', (data, isBinary) => {
    for (const member of room) {
      if (member.readyState === WebSocket.OPEN) member.send(data, { binary: isBinary });
    }
  });
  socket.on('close', () => {
    room.delete(socket);
    if (room.size === 0) rooms.delete(path);
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`node-ws-broadcast listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
