//! Chat in JavaScript: the `chat*` methods of `Consultation` (wrapped as
//! `consultation.chat` by pkg/src/chat.ts), the `chat*` events, history for late joiners and
//! the encrypted IndexedDB copy.
//!
//! Thin glue over [`crate::chat::Conversation`]: frames go out through the session's
//! app-data channel to every peer in the call; frames in are demultiplexed by their tag in
//! `consultation.rs`. A clinician hands the earlier messages to a participant it admits
//! when every patient's `chat-history` grant in a bound `ConsentReplica` allows it
//! ([`super::consent::replicas_decision`]); the `chathistory` event says whether it did.

use js_sys::{Array, Object, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::consultation::{self, Consultation, Shared};
use super::js::{self, object, set};
use super::{Error, JsError};
use crate::Error as CoreError;
use crate::chat::{
    ChatError, ChatMessage, CommunicationContext, Conversation, Peer, Received, store,
    to_communications,
};
use crate::consent::DataCategory;
use crate::signaling::relay_wire::{ParticipantId, Role};
use crate::signaling::{Phase, Session};

#[wasm_bindgen(module = "/src/web/snippets/chat_store.js")]
extern "C" {
    /// Resolves to `[handle, bytes | undefined]` (see the snippet).
    #[wasm_bindgen(js_name = chatStoreOpen)]
    fn chat_store_open(name: &str) -> Promise;
    /// Resolves once `bytes` is written.
    #[wasm_bindgen(js_name = chatStoreSave)]
    fn chat_store_save(handle: &JsValue, bytes: &[u8]) -> Promise;
    #[wasm_bindgen(js_name = chatStoreClose)]
    fn chat_store_close(handle: &JsValue);
}

/// The chat of one consultation (held in its driver).
#[derive(Default)]
pub(super) struct CallChat {
    /// Made on first use: the session's id and role are known by then.
    conversation: Option<Conversation>,
    /// The IndexedDB handle once `chatPersist` opened one.
    store: Option<JsValue>,
}

fn conversation<'a>(chat: &'a mut CallChat, s: &Session) -> &'a mut Conversation {
    chat.conversation
        .get_or_insert_with(|| Conversation::new(s.id(), s.role()))
}

fn chat_error(e: ChatError) -> Error {
    Error::Core(CoreError::Chat(e))
}

/// The peers a frame for everyone goes to: those in the call.
fn in_call(s: &Session) -> Vec<ParticipantId> {
    s.peers()
        .into_iter()
        .filter(|p| p.in_call)
        .map(|p| p.id)
        .collect()
}

/// Sends `frame` to each of `peers`. A peer the session cannot reach yet is skipped: it gets
/// the message as history (with consent) or not at all, never half of it.
fn send_to(s: &mut Session, peers: &[ParticipantId], frame: &[u8], now: u64) {
    for &p in peers {
        let _ = s.send_app_data(p, frame, now);
    }
}

fn message_js(m: &ChatMessage, local: ParticipantId) -> JsValue {
    let author = js::hex(&m.author.0);
    let mut id = author.clone();
    id.push('-');
    crate::text::push_padded(&mut id, m.seq, 1);
    object(&[
        ("id", id.into()),
        ("author", author.into()),
        ("role", m.role.as_str().into()),
        ("seq", (m.seq as f64).into()),
        ("sentAt", (m.sent_at as f64).into()),
        ("text", m.text.as_str().into()),
        ("own", (m.author == local).into()),
    ])
    .into()
}

/// Runs `f` on the chat, mapping a busy or ended call to `InvalidState`.
fn with<R>(
    inner: &Shared,
    f: impl FnOnce(&mut CallChat, &mut Session, u64) -> Result<R, Error>,
) -> Result<R, JsError> {
    consultation::with_chat(inner, f)
        .unwrap_or(Err(Error::Core(CoreError::Signaling(
            crate::signaling::SignalingError::InvalidState,
        ))))
        .map_err(JsError)
}

/// Writes the conversation to IndexedDB if `chatPersist` opened it; a failed write is an
/// `error` event (the messages stay in memory).
fn save(inner: &Shared) {
    let Some((handle, bytes)) = consultation::with_chat(inner, |chat, _, _| {
        let handle = chat.store.clone()?;
        Some((
            handle,
            store::encode(chat.conversation.as_ref()?.messages()),
        ))
    })
    .flatten() else {
        return;
    };
    let weak = std::rc::Rc::downgrade(inner);
    js::spawn(Box::pin(async move {
        if JsFuture::from(chat_store_save(&handle, &bytes))
            .await
            .is_err()
        {
            if let Some(inner) = weak.upgrade() {
                let e = Error::Unsupported("chat: the messages could not be stored in IndexedDB");
                consultation::dispatch_event(&inner, "error", consultation::error_event(&e, None));
            }
        }
    }));
}

/// `peer` as the session knows it now, for the chat and files cores' checks (an unknown
/// peer is a guest not in the call: refused).
pub(super) fn sender(s: &Session, peer: ParticipantId) -> Peer {
    let info = s.peer(peer);
    Peer {
        id: peer,
        role: info.as_ref().map_or(Role::Guest, |p| p.role),
        in_call: info.is_some_and(|p| p.in_call),
    }
}

/// A chat frame from `peer` (its first byte is the chat tag).
pub(super) fn on_frame(inner: &Shared, peer: ParticipantId, data: &[u8]) {
    let result = consultation::with_chat(inner, |chat, s, now| {
        let from = sender(s, peer);
        let local = s.id();
        let r = conversation(chat, s).receive(from, data);
        if let Ok(Received::Message { receipt, .. }) = &r {
            send_to(s, &[peer], receipt, now);
        }
        (r, local)
    });
    let Some((result, local)) = result else {
        return;
    };
    let hex = |p: ParticipantId| JsValue::from(js::hex(&p.0));
    let (kind, detail) = match result {
        Ok(Received::Message { message, .. }) => (
            "chatmessage",
            object(&[
                ("message", message_js(&message, local)),
                ("history", false.into()),
            ]),
        ),
        Ok(Received::History { message }) => (
            "chatmessage",
            object(&[
                ("message", message_js(&message, local)),
                ("history", true.into()),
            ]),
        ),
        Ok(Received::Receipt { peer, state, upto }) => (
            "chatreceipt",
            object(&[
                ("participantId", hex(peer)),
                ("state", state.name().into()),
                ("upto", (upto as f64).into()),
            ]),
        ),
        Ok(Received::Typing { peer, active }) => (
            "chattyping",
            object(&[("participantId", hex(peer)), ("active", active.into())]),
        ),
        Err(e) => (
            "error",
            consultation::error_event(&chat_error(e), Some(peer)),
        ),
    };
    if kind == "chatmessage" {
        save(inner);
    }
    consultation::dispatch_event(inner, kind, detail);
}

/// (Clinicians) A participant was admitted: it gets the earlier messages if every patient's
/// `chat-history` consent allows it.
pub(super) fn peer_admitted(inner: &Shared, peer: ParticipantId) {
    let ledgers = consultation::ledgers(inner);
    let outcome = consultation::with_chat(inner, |chat, s, now| {
        if s.role() != Role::Clinician
            || chat
                .conversation
                .as_ref()
                .is_none_or(|c| c.messages().is_empty())
        {
            return None;
        }
        let patients: Vec<String> = s
            .peers()
            .iter()
            .filter(|p| p.role == Role::Patient)
            .map(|p| js::hex(&p.id.0))
            .collect();
        let decision =
            super::consent::everyone_decision(&ledgers, &patients, DataCategory::ChatHistory, now);
        let frames = conversation(chat, s).history_for(peer, &decision);
        if let Ok(frames) = &frames {
            for f in frames {
                send_to(s, &[peer], f, now);
            }
        }
        Some(frames.map(|f| f.len()))
    })
    .flatten();
    let detail = object(&[("participantId", js::hex(&peer.0).into())]);
    match outcome {
        None => return,
        Some(Ok(count)) => {
            set(&detail, "shared", true);
            set(&detail, "count", count as f64);
        }
        Some(Err(e)) => {
            set(&detail, "shared", false);
            set(&detail, "count", 0);
            if let ChatError::HistoryNotConsented(reason) = e {
                set(&detail, "reason", super::consent::reason_name(reason));
            }
        }
    }
    consultation::dispatch_event(inner, "chathistory", detail);
}

fn parse_id(s: &str) -> Result<ParticipantId, Error> {
    js::parse_hex8(s)
        .map(ParticipantId)
        .ok_or(Error::InvalidArgument(
            "participantId: expected 16 hex digits",
        ))
}

/// Where exported resources point: the patient, the visit, and FHIR references of the
/// participants (`[["<id>", "Practitioner/dr-1"], …]`; a malformed id is refused).
pub(super) fn fhir_context(
    subject: String,
    encounter: Option<String>,
    senders: &Array,
) -> Result<CommunicationContext, Error> {
    let mut ctx = CommunicationContext {
        subject,
        encounter,
        senders: Vec::new(),
    };
    for pair in senders.iter() {
        let pair = Array::from(&pair);
        let id = pair.get(0).as_string().unwrap_or_default();
        let reference = pair.get(1).as_string().unwrap_or_default();
        ctx.senders.push((parse_id(&id)?, reference));
    }
    Ok(ctx)
}

#[wasm_bindgen]
impl Consultation {
    /// Sends a chat message to everyone in the call; returns it as held. (pkg: `chat.send`.)
    #[wasm_bindgen(js_name = chatSend, unchecked_return_type = "any")]
    pub fn chat_send(&self, text: &str) -> Result<JsValue, JsError> {
        let inner = self.shared();
        let message = with(inner, |chat, s, now| {
            if s.phase() != Phase::InCall {
                return Err(Error::Core(CoreError::Signaling(
                    crate::signaling::SignalingError::InvalidState,
                )));
            }
            let local = s.id();
            let (m, frame) = conversation(chat, s).send(text, now).map_err(chat_error)?;
            let peers = in_call(s);
            send_to(s, &peers, &frame, now);
            Ok(message_js(&m, local))
        })?;
        save(inner);
        Ok(message)
    }

    /// Marks `participantId`'s messages up to `seq` read and tells them. (pkg: `chat.markRead`.)
    #[wasm_bindgen(js_name = chatMarkRead)]
    pub fn chat_mark_read(&self, participant_id: &str, seq: f64) -> Result<(), JsError> {
        let author = parse_id(participant_id).map_err(JsError)?;
        with(self.shared(), |chat, s, now| {
            if !(seq.fract() == 0.0 && (1.0..=9_007_199_254_740_991.0).contains(&seq)) {
                return Err(Error::InvalidArgument("seq: expected a sequence number"));
            }
            let seq = seq as u64;
            if let Some(frame) = conversation(chat, s)
                .mark_read(author, seq)
                .map_err(chat_error)?
            {
                send_to(s, &[author], &frame, now);
            }
            Ok(())
        })
    }

    /// Tells everyone in the call that this side started or stopped typing. (pkg: `chat.setTyping`.)
    #[wasm_bindgen(js_name = chatTyping)]
    pub fn chat_typing(&self, active: bool) -> Result<(), JsError> {
        with(self.shared(), |_, s, now| {
            let peers = in_call(s);
            send_to(s, &peers, &Conversation::typing(active), now);
            Ok(())
        })
    }

    /// Every message held, in conversation order. (pkg: `chat.messages()`.)
    #[wasm_bindgen(js_name = chatMessages, unchecked_return_type = "any[]")]
    pub fn chat_messages(&self) -> Result<Array, JsError> {
        with(self.shared(), |chat, s, _| {
            let local = s.id();
            Ok(conversation(chat, s)
                .messages()
                .iter()
                .map(|m| message_js(m, local))
                .collect())
        })
    }

    /// How far `participantId` got with this side's messages. (pkg: `chat.progress`.)
    #[wasm_bindgen(js_name = chatProgress, unchecked_return_type = "any")]
    pub fn chat_progress(&self, participant_id: &str) -> Result<JsValue, JsError> {
        let peer = parse_id(participant_id).map_err(JsError)?;
        with(self.shared(), |chat, s, _| {
            let p = conversation(chat, s).progress(peer);
            let o: Object = object(&[
                ("delivered", (p.delivered as f64).into()),
                ("read", (p.read as f64).into()),
            ]);
            Ok(o.into())
        })
    }

    /// The messages as FHIR R4 Communications. `senders` pairs participant ids with FHIR
    /// references (`[["<id>", "Practitioner/dr-1"], …]`). (pkg: `chat.toFhir`.)
    #[wasm_bindgen(js_name = chatToFhir, unchecked_return_type = "object[]")]
    pub fn chat_to_fhir(
        &self,
        subject: String,
        encounter: Option<String>,
        #[wasm_bindgen(unchecked_param_type = "[string, string][]")] senders: Array,
    ) -> Result<JsValue, JsError> {
        let ctx = fhir_context(subject, encounter, &senders).map_err(JsError)?;
        with(self.shared(), |chat, s, _| {
            Ok(js::to_value(&to_communications(
                conversation(chat, s).messages(),
                &ctx,
            )))
        })
    }

    /// Keeps the chat in IndexedDB under `name` (encrypted under a non-extractable key, as the
    /// consent ledger's device key is): merges what is stored there into this conversation,
    /// then writes after every change. (pkg: `chat.persist`.)
    #[wasm_bindgen(js_name = chatPersist, unchecked_return_type = "Promise<void>")]
    pub fn chat_persist(&self, name: String) -> Promise {
        let inner = self.shared().clone();
        js::promise(async move {
            let opened = JsFuture::from(chat_store_open(&name)).await.map_err(|e| {
                JsError(match e.as_string().as_deref() {
                    Some("no-idb" | "no-subtle") => {
                        Error::Unsupported("chat storage needs IndexedDB and WebCrypto")
                    }
                    Some("crypto") => {
                        chat_error(ChatError::Malformed("stored chat: does not decrypt"))
                    }
                    _ => Error::Unsupported("chat: IndexedDB failed"),
                })
            })?;
            let opened = Array::from(&opened);
            let handle = opened.get(0);
            let stored = match opened.get(1).dyn_into::<js_sys::Uint8Array>() {
                Ok(bytes) => store::decode(&bytes.to_vec()).map_err(|e| JsError(chat_error(e)))?,
                Err(_) => Vec::new(),
            };
            let merged = with(&inner, |chat, s, _| {
                if let Some(old) = chat.store.replace(handle.clone()) {
                    chat_store_close(&old);
                }
                let mut all = stored;
                all.extend(
                    chat.conversation
                        .take()
                        .map(|c| c.messages().to_vec())
                        .unwrap_or_default(),
                );
                chat.conversation = Some(Conversation::restore(s.id(), s.role(), all));
                Ok(())
            });
            if merged.is_err() {
                chat_store_close(&handle);
            }
            merged?;
            save(&inner);
            Ok(JsValue::UNDEFINED)
        })
    }
}
