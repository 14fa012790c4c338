// What an app needs to join a Twilio Video call: connect(token, options) resolves to a Room.
import { connect } from 'twilio-video';

export async function join(token, name, onReconnecting) {
  const room = await connect(token, { name });
  room.on('reconnecting', onReconnecting);
  return room;
}
