// The chat card on both demo pages: `consultation.chat` with delivered and read marks, typing,
// and the earlier messages for a late joiner (the SDK sends them only with the patient's
// chat-history consent). Messages are text only: shown with textContent, never as HTML.
import { $, h, announce } from '/common.js';

const ROLE = { clinician: 'Clinician', patient: 'Patient', guest: 'Guest' };

/** The card's body, under its heading (the pages hold the card and heading only). */
function build(card) {
  if ($('chat-log')) return;
  card.append(
    h('ol', { id: 'chat-log', class: 'chat-log', 'aria-label': 'Messages' }),
    h('p', { id: 'chat-typing', class: 'hint', 'aria-live': 'polite' }),
    h('form', { id: 'chat-form', class: 'chat-form' },
      h('label', { for: 'chat-input' }, 'Message'),
      h('input', { id: 'chat-input', type: 'text', maxlength: '1000', autocomplete: 'off' }),
      h('button', { type: 'submit' }, 'Send')),
    h('p', { id: 'chat-note', class: 'hint', 'aria-live': 'polite' }));
}

/** Wires the `#chat-card` of this page to consultation `c`. */
export function attachChat(c) {
  build($('chat-card'));
  const log = $('chat-log');
  const form = $('chat-form');
  const input = $('chat-input');
  const typing = $('chat-typing');
  const items = new Map();
  /** The newest unread message of each author: marked read once this page is in view. */
  const unread = new Map();
  const markRead = () => {
    if (document.visibilityState !== 'visible') return;
    for (const [author, seq] of unread) {
      try { c.chat.markRead(author, seq); } catch { /* it left the call */ }
    }
    unread.clear();
  };
  document.addEventListener('visibilitychange', markRead);
  log.replaceChildren();
  typing.textContent = '';
  $('chat-card').hidden = false;

  const status = (li, text, state) => {
    li.dataset.status = state;
    li.querySelector('.chat-status').textContent = text;
  };
  const show = (m, history) => {
    if (items.has(m.id)) return;
    const li = h('li', { class: m.own ? 'chat-own' : 'chat-other', dataset: { id: m.id, seq: String(m.seq), history: String(history) } },
      h('span', { class: 'chat-who' }, m.own ? 'You' : ROLE[m.role] ?? 'Someone'),
      h('span', { class: 'chat-text' }, m.text),
      h('span', { class: 'chat-status hint' }, history ? '(earlier)' : ''));
    items.set(m.id, li);
    log.append(li);
    li.scrollIntoView({ block: 'nearest' });
    if (m.own) status(li, 'Sent', 'sent');
  };

  c.addEventListener('chatmessage', (e) => {
    const { message, history } = e.detail;
    show(message, history);
    if (!history) announce(`New message from the ${ROLE[message.role]?.toLowerCase() ?? 'call'}.`);
    if (!message.own) unread.set(message.author, message.seq);
    markRead();
  });
  c.addEventListener('chatreceipt', (e) => {
    for (const li of items.values()) {
      if (li.dataset.id.startsWith(`${c.participantId}-`) && Number(li.dataset.seq) <= e.detail.upto) {
        if (e.detail.state === 'read') status(li, 'Read', 'read');
        else if (li.dataset.status === 'sent') status(li, 'Delivered', 'delivered');
      }
    }
  });
  c.addEventListener('chattyping', (e) => {
    typing.textContent = e.detail.active ? 'Someone is typing…' : '';
  });
  c.addEventListener('chathistory', (e) => {
    $('chat-note').textContent = e.detail.shared
      ? `The earlier messages (${e.detail.count}) were shared with the participant who just joined.`
      : 'The earlier messages were not shared with the participant who just joined: the patient has not agreed to it.';
  });
  input.oninput = () => { try { c.chat.setTyping(input.value !== ''); } catch { /* not in the call yet */ } };
  form.onsubmit = (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    try {
      show(c.chat.send(text), false);
      input.value = '';
      c.chat.setTyping(false);
      $('chat-note').textContent = '';
    } catch (err) {
      $('chat-note').textContent = err.code === 'LimitExceeded' ? 'That message is too long.' : 'The message could not be sent now.';
    }
  };
}
