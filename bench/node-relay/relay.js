// Baseline relay for relay-bench: the same relay_wire framing and forwarding as
// teleconsult-relay (join with an HMAC token, Welcome/Joined/Left, unicast and broadcast
// Deliver, Ping/Pong), on the `ws` package, written the way a Node developer would.
// Usage: node relay.js <port> <secret>; prints "listening <port>" when ready.
'use strict';
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const secret = Buffer.from(process.argv[3] || 'bench-secret-0123456789abcdef');
const rooms = new Map(); // room -> Map(idHex -> {ws, id, role})

function verify(token) {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  const mac = crypto.createHmac('sha256', secret).update('v1.' + parts[1]).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== mac.length || !crypto.timingSafeEqual(given, mac)) return null;
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (claims.exp <= Date.now() / 1000) return null;
  const role = { clinician: 1, patient: 2, guest: 3 }[claims.role];
  return role ? { room: claims.room, role } : null;
}

const wss = new WebSocketServer({ port, host: '127.0.0.1', maxPayload: 65536, perMessageDeflate: false });
wss.on('connection', (ws) => {
  let member = null;
  let room = null;
  ws.on('message', (data, isBinary) => {
    if (!isBinary || data.length === 0) return ws.close(4010);
    const type = data[0];
    if (!member) {
      if (type !== 0x01 || data.length < 12) return ws.close(4010);
      const id = data.subarray(2, 10);
      const len = data.readUInt16BE(10);
      const claims = verify(data.subarray(12, 12 + len).toString());
      if (!claims) return ws.close(4001);
      if (!rooms.has(claims.room)) rooms.set(claims.room, new Map());
      room = rooms.get(claims.room);
      member = { ws, id: Buffer.from(id), hex: id.toString('hex'), role: claims.role };
      const others = [...room.values()];
      const welcome = Buffer.alloc(4 + 9 * others.length);
      welcome[0] = 0x81; welcome[1] = member.role; welcome.writeUInt16BE(others.length, 2);
      others.forEach((m, i) => { m.id.copy(welcome, 4 + 9 * i); welcome[12 + 9 * i] = m.role; });
      ws.send(welcome);
      const joined = Buffer.concat([Buffer.from([0x83]), member.id, Buffer.from([member.role])]);
      for (const m of others) m.ws.send(joined);
      room.set(member.hex, member);
      return;
    }
    if (type === 0x02 && data.length >= 9) {
      const to = data.subarray(1, 9);
      const out = Buffer.allocUnsafe(data.length);
      out[0] = 0x82; member.id.copy(out, 1); data.copy(out, 9, 9);
      if (to.every((b) => b === 0)) {
        for (const m of room.values()) if (m !== member) m.ws.send(out);
      } else {
        const m = room.get(to.toString('hex'));
        if (m) m.ws.send(out);
      }
    } else if (type === 0x03 && data.length === 9) {
      const pong = Buffer.from(data); pong[0] = 0x85; ws.send(pong);
    } else {
      ws.close(4010);
    }
  });
  ws.on('close', () => {
    if (!member || room.get(member.hex) !== member) return;
    room.delete(member.hex);
    const left = Buffer.concat([Buffer.from([0x84]), member.id, Buffer.from([1])]);
    for (const m of room.values()) m.ws.send(left);
  });
  ws.on('error', () => {});
});
wss.on('listening', () => console.log('listening ' + wss.address().port));
