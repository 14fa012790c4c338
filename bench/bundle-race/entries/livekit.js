// What an app needs to join a LiveKit call: a Room and its connect().
import { Room, RoomEvent } from 'livekit-client';

export async function join(url, token, onReconnecting) {
  const room = new Room();
  room.on(RoomEvent.Reconnecting, onReconnecting);
  await room.connect(url, token);
  return room;
}
