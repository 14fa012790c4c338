// Video consultations between two real Chromium pages through the real relay, with fake
// camera and microphone, inside a loopback-only network namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRelay, launchBrowser, sdkPage, joinIn, until, videoKeepsFlowing, testPages, startProxy } from './harness.mjs';

let relay, browser;
before(async () => {
  relay = await startRelay({ www: testPages });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await relay?.stop();
});

/** A clinician page with a fresh invite, and tokens for that room. */
async function newVisit() {
  const clinician = await sdkPage(browser, relay);
  const invite = await clinician.evaluate(() => window.t.createInvite(`${location.origin}/patient`, `${location.origin}/clinician`));
  return { clinician, invite };
}

async function joinBoth({ autoAdmit = true, media = 'join', patientMedia = media } = {}) {
  const { clinician, invite } = await newVisit();
  const doc = await joinIn(clinician, {
    link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
    token: await relay.token(invite.roomId, 'clinician'),
  }, { autoAdmit, media });
  const patient = await sdkPage(browser, relay);
  const pat = await joinIn(patient, {
    link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
    token: await relay.token(invite.roomId, 'patient'),
  }, { media: patientMedia });
  return { clinician, patient, invite, doc, pat };
}

test('waiting room, admit, connected: both see the same SAS and each other\'s video', async () => {
  const { clinician, patient, doc, pat } = await joinBoth({ autoAdmit: false, media: 'later' });
  try {
    assert.equal(pat.state, 'waiting', 'a patient starts in the waiting room');
    const request = await until(clinician, () => window.log.find((e) => e.type === 'admissionrequested'), null, { what: 'admission request' });
    assert.equal(request.participant.id, pat.id);
    assert.equal(request.participant.role, 'patient');
    assert.equal(request.participant.name, 'Sam Patient');
    await clinician.evaluate((id) => window.c.admit(id), pat.id);
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    await until(clinician, () => window.c.state === 'connected', null, { what: 'clinician connected' });
    const sasP = await until(patient, () => window.log.find((e) => e.type === 'sas')?.sas, null, { what: 'patient SAS' });
    const sasC = await until(clinician, () => window.log.find((e) => e.type === 'sas')?.sas, null, { what: 'clinician SAS' });
    assert.match(sasP.digits, /^\d{6}$/);
    assert.deepEqual(sasP, sasC, 'both sides show the same SAS');
    // Video flows both ways: frames decoded keep increasing.
    for (const [page, from] of [[patient, doc.id], [clinician, pat.id]]) {
      await videoKeepsFlowing(page, from);
    }
    // Audio arrives too.
    const audio = await patient.evaluate((id) => window.c.remoteStream(id).getAudioTracks().length, doc.id);
    assert.equal(audio, 1);
    // Confirming the SAS on both sides is seen by the other.
    await patient.evaluate((id) => window.c.confirmSas(id), doc.id);
    await until(clinician, () => window.log.some((e) => e.type === 'sasconfirmed'), null, { what: 'sasconfirmed' });
    // The network-quality probe reports on the connected participant every two seconds.
    const quality = await until(patient, (id) => window.log.find((e) => e.type === 'quality' && e.participantId === id), doc.id, { what: 'quality event' });
    assert.ok(['good', 'fair', 'poor'].includes(quality.level), `quality level ${quality.level}`);
    assert.equal(typeof quality.framesDecoded, 'number', 'video frames were decoded');
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await patient.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});

test('a patient\'s offer is made at join and held by the clinician until the admission; one made for other tracks is rolled back', async () => {
  // Each page logs its connections' setLocalDescription results: `[connection number, type]`.
  const logDescriptions = () => {
    window.sld = [];
    const set = RTCPeerConnection.prototype.setLocalDescription;
    let made = 0;
    RTCPeerConnection.prototype.setLocalDescription = async function (...args) {
      const done = await set.apply(this, args);
      this.n ??= ++made;
      window.sld.push([this.n, args[0]?.type === 'rollback' ? 'rollback' : this.localDescription?.type]);
      return done;
    };
  };
  for (const media of ['join', 'later']) {
    const { clinician, invite } = await newVisit();
    const patient = await sdkPage(browser, relay);
    const proxy = await startProxy(relay.wsUrl);
    try {
      await patient.evaluate(logDescriptions);
      await clinician.evaluate(() => {
        window.srd = [];
        const set = RTCPeerConnection.prototype.setRemoteDescription;
        RTCPeerConnection.prototype.setRemoteDescription = function (d) {
          window.srd.push(d?.type);
          return set.apply(this, arguments);
        };
      });
      const doc = await joinIn(clinician, {
        link: invite.clinicianLink, relayUrl: proxy.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
        token: await relay.token(invite.roomId, 'clinician'),
      }, { media: 'join' });
      // The clinician's downlink stalls, so nothing the patient sends reaches it: the offer
      // that appears meanwhile was made at join (and, the relay having handed on the
      // clinician's hello, sent early), not once the clinician answered.
      proxy.hold();
      const pat = await joinIn(patient, {
        link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
        token: await relay.token(invite.roomId, 'patient'),
      }, { media });
      await until(patient, () => window.sld.some(([n, type]) => n === 1 && type === 'offer'), null, { what: 'an offer made at join' });
      proxy.release();
      await until(clinician, () => window.log.some((e) => e.type === 'admissionrequested'), null, { what: 'admission request' });
      // The waiting patient's early offer is held: the clinician sets nothing before it admits.
      assert.deepEqual(await clinician.evaluate(() => window.srd), [], 'no description set before the admission');
      await clinician.evaluate((id) => window.c.admit(id), pat.id);
      await until(patient, () => window.c.state === 'connected', null, { what: `patient connected (${media})` });
      await videoKeepsFlowing(clinician, pat.id);
      await videoKeepsFlowing(patient, doc.id);
      const first = await patient.evaluate(() => window.sld.filter(([n]) => n === 1).map(([, type]) => type));
      if (media === 'join') {
        // The tracks did not change: the offer made while waiting is the one that connected.
        assert.deepEqual(first, ['offer'], media);
      } else {
        // The camera started after the offer was made at join. Either that offer had not
        // left yet (it is rolled back and made again with the camera), or it had, early, and
        // the camera comes in a second offer; video flows both ways either way (above).
        assert.ok(['offer,rollback,offer', 'offer,offer'].includes(first.join()), `${media}: ${first}`);
      }
    } finally {
      await clinician.evaluate(() => window.c?.hangUp());
      await patient.evaluate(() => window.c?.hangUp());
      await clinician.close();
      await patient.close();
      await proxy.stop();
    }
  }
});

test('a patient whose camera is denied (microphone only) still receives the clinician\'s video', async () => {
  const { clinician, patient, doc, pat } = await joinBoth({ patientMedia: 'audio' });
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    await videoKeepsFlowing(patient, doc.id);
    const kinds = (page, id) => page.evaluate((id) => window.c.remoteStream(id)?.getTracks().map((t) => t.kind).sort(), id);
    assert.deepEqual(await kinds(patient, doc.id), ['audio', 'video'], 'the patient gets the clinician\'s audio and video');
    await until(clinician, (id) => window.c.remoteStream(id)?.getAudioTracks().length === 1, pat.id, { what: 'the patient\'s audio at the clinician' });
  } finally {
    for (const page of [clinician, patient]) {
      await page.evaluate(() => window.c?.hangUp());
      await page.close();
    }
  }
});

test('a denied patient ends with reason "denied"; a second patient is refused by the relay', async () => {
  const { clinician, invite } = await newVisit();
  const patient = await sdkPage(browser, relay);
  const second = await sdkPage(browser, relay);
  try {
    await joinIn(clinician, {
      link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
      token: await relay.token(invite.roomId, 'clinician'),
    }, { media: false });
    const pat = await joinIn(patient, {
      link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam',
      token: await relay.token(invite.roomId, 'patient'),
    }, { media: false });
    // A second patient in the same room: the relay refuses it with close code 4006.
    const refused = await second.evaluate(async (options) => {
      try { await window.t.Consultation.join(options); return null; }
      catch (e) { return { name: e.name, code: e.code, relayCode: e.relayCode }; }
    }, { link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Other', token: await relay.token(invite.roomId, 'patient') });
    assert.deepEqual(refused, { name: 'TeleconsultError', code: 'RelayRefused', relayCode: 4006 });
    await until(clinician, () => window.log.some((e) => e.type === 'admissionrequested'), null, { what: 'admission request' });
    await clinician.evaluate((id) => window.c.deny(id), pat.id);
    const ended = await until(patient, () => window.c.state === 'ended' && window.c.endReason, null, { what: 'patient ended' });
    assert.equal(ended, 'denied');
    await until(clinician, () => window.log.some((e) => e.type === 'participantdenied'), null, { what: 'participantdenied' });
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    for (const p of [clinician, patient, second]) await p.close();
  }
});

test('setMuted disables a kind of local track; switchCamera sends a new camera track and stops the old', async () => {
  const { clinician, patient, pat } = await joinBoth();
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    const enabled = () => window.c.localStream.getTracks().map((t) => `${t.kind}:${t.enabled}`).sort();
    await patient.evaluate(() => window.c.setMuted('audio', true));
    assert.deepEqual(await patient.evaluate(enabled), ['audio:false', 'video:true']);
    await patient.evaluate(() => window.c.setMuted('audio', false));
    await patient.evaluate(() => window.c.setMuted('video', true));
    assert.deepEqual(await patient.evaluate(enabled), ['audio:true', 'video:false']);
    await patient.evaluate(() => window.c.setMuted('video', false));

    const swap = await patient.evaluate(async () => {
      const old = window.c.localStream.getVideoTracks()[0];
      window.oldCamera = old;
      await window.c.switchCamera();
      const now = window.c.localStream.getVideoTracks();
      return { oldEnded: old.readyState === 'ended', count: now.length, same: now[0] === old, live: now[0].readyState };
    });
    assert.deepEqual(swap, { oldEnded: true, count: 1, same: false, live: 'live' });
    // The clinician keeps receiving video: the new track replaced the old one in the sender.
    await videoKeepsFlowing(clinician, pat.id);
    const bad = await patient.evaluate(() => window.c.switchCamera('no-such-camera').then(() => null, (e) => e.code));
    assert.equal(bad, 'MediaFailed');
    assert.equal(await patient.evaluate(() => window.c.localStream.getVideoTracks()[0].readyState), 'live',
      'a failed switch leaves the current camera running');
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await patient.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});

test('on iOS (one live camera per page) switchCamera stops the old camera before asking for the new one; elsewhere after', async () => {
  const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';
  for (const [ua, oldEndedFirst] of [[IPHONE, true], [null, false]]) {
    const { clinician, invite } = await newVisit();
    await joinIn(clinician, {
      link: invite.clinicianLink, relayUrl: relay.wsUrl, role: 'clinician', displayName: 'Dr Rivera',
      token: await relay.token(invite.roomId, 'clinician'),
    }, { autoAdmit: true });
    const page = await browser.newPage();
    if (ua) await page.setUserAgent(ua);
    await page.goto(`${relay.url}/`);
    await page.evaluate(async () => { window.t = await import('/pkg/index.js'); window.log = []; });
    try {
      assert.equal(await page.evaluate(() => window.t.capabilities().platform), ua ? 'ios' : 'browser');
      await joinIn(page, {
        link: invite.patientLink, relayUrl: relay.wsUrl, role: 'patient', displayName: 'Sam Patient',
        token: await relay.token(invite.roomId, 'patient'),
      });
      await until(page, () => window.c.state === 'connected', null, { what: 'patient connected' });
      const order = await page.evaluate(async () => {
        const old = window.c.localStream.getVideoTracks()[0];
        const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
        let endedAtAsk = null;
        navigator.mediaDevices.getUserMedia = (c) => { endedAtAsk = old.readyState === 'ended'; return gum(c); };
        await window.c.switchCamera();
        return { endedAtAsk, live: window.c.localStream.getVideoTracks()[0].readyState };
      });
      assert.deepEqual(order, { endedAtAsk: oldEndedFirst, live: 'live' });
    } finally {
      for (const p of [page, clinician]) {
        await p.evaluate(() => window.c?.hangUp()).catch(() => {});
        await p.close();
      }
    }
  }
});

test('a camera the browser ended while the page was hidden is opened again when it is visible, and sent without renegotiating', async () => {
  const { clinician, patient, pat } = await joinBoth();
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    await videoKeepsFlowing(clinician, pat.id);
    // A renegotiation sets new descriptions: count them on both pages from here on.
    for (const page of [clinician, patient]) {
      await page.evaluate(() => {
        window.descriptions = 0;
        for (const m of ['setLocalDescription', 'setRemoteDescription']) {
          const f = RTCPeerConnection.prototype[m];
          RTCPeerConnection.prototype[m] = function (...a) { window.descriptions += 1; return f.apply(this, a); };
        }
      });
    }
    // The page goes to the background (its visibility is page-controlled: a headless browser
    // never hides a page) and the camera ends there, as iOS ends it.
    const ended = await patient.evaluate(() => {
      let hidden = false;
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      window.setHidden = (h) => { hidden = h; document.dispatchEvent(new Event('visibilitychange')); };
      window.restored = [];
      window.opened = 0;
      const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => { window.opened += 1; return gum(c); };
      window.c.addEventListener('localmediarestored', (e) => window.restored.push({ kind: e.detail.kind, track: e.detail.track }));
      window.setHidden(true);
      window.oldCamera = window.c.localStream.getVideoTracks()[0];
      window.oldMicrophone = window.c.localStream.getAudioTracks()[0];
      window.oldCamera.stop();
      return window.oldCamera.readyState;
    });
    assert.equal(ended, 'ended');
    await patient.evaluate(() => window.setHidden(false));
    const restored = await until(patient, () => window.restored.length && window.restored.map((r) => ({
      kind: r.kind,
      state: r.track.readyState,
      inLocalStream: window.c.localStream.getVideoTracks()[0] === r.track,
      oldGone: !window.c.localStream.getTracks().includes(window.oldCamera),
      microphoneKept: window.c.localStream.getAudioTracks()[0] === window.oldMicrophone,
    })), null, { what: 'localmediarestored' });
    assert.deepEqual(restored, [{ kind: 'video', state: 'live', inLocalStream: true, oldGone: true, microphoneKept: true }]);
    // The clinician decodes frames of the new camera, and nobody renegotiated.
    await videoKeepsFlowing(clinician, pat.id);
    assert.deepEqual([await clinician.evaluate(() => window.descriptions), await patient.evaluate(() => window.descriptions)], [0, 0]);
    // Becoming visible again with every track live opens nothing (the SDK asks at once, in
    // a microtask, when it does).
    const opened = await patient.evaluate(async () => {
      window.setHidden(true);
      window.setHidden(false);
      await new Promise((r) => setTimeout(r));
      return [window.opened, window.restored.length];
    });
    assert.deepEqual(opened, [1, 1]);
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await patient.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});

test('an interpreter (guest) joins an ongoing call and connects with both', async () => {
  const { clinician, patient, invite, doc, pat } = await joinBoth();
  const guest = await sdkPage(browser, relay);
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'patient connected' });
    const g = await joinIn(guest, {
      link: invite.guestLink, relayUrl: relay.wsUrl, role: 'guest', displayName: 'Interpreter',
      token: await relay.token(invite.roomId, 'guest'),
    });
    assert.equal(g.state, 'waiting');
    await until(guest, ([a, b]) => window.c.participants().filter((p) => (p.id === a || p.id === b) && p.connected).length === 2,
      [doc.id, pat.id], { what: 'guest connected to clinician and patient' });
    await until(patient, (id) => window.c.participants().some((p) => p.id === id && p.connected && p.role === 'guest'), g.id, { what: 'patient sees guest' });
  } finally {
    for (const p of [guest, patient, clinician]) await p.evaluate(() => window.c?.hangUp());
    for (const p of [guest, patient, clinician]) await p.close();
  }
});

test('hangUp() leaves no open peer connection, live track or socket behind', async () => {
  const { clinician, patient } = await joinBoth();
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected' });
    await patient.evaluate(() => window.c.hangUp());
    const leftovers = await patient.evaluate(() => ({
      state: window.c.state,
      endReason: window.c.endReason,
      pcs: window.__created.pcs.map((pc) => pc.connectionState),
      sockets: window.__created.sockets.map((ws) => ws.readyState),
      tracks: window.__created.tracks.map((t) => t.readyState),
    }));
    assert.equal(leftovers.state, 'ended');
    assert.equal(leftovers.endReason, 'hung-up');
    assert.ok(leftovers.pcs.length >= 1 && leftovers.pcs.every((s) => s === 'closed'), JSON.stringify(leftovers.pcs));
    assert.ok(leftovers.sockets.length >= 1 && leftovers.sockets.every((s) => s >= 2), JSON.stringify(leftovers.sockets));
    assert.ok(leftovers.tracks.length >= 2 && leftovers.tracks.every((s) => s === 'ended'), JSON.stringify(leftovers.tracks));
    const left = await until(clinician, () => window.log.find((e) => e.type === 'participantleft'), null, { what: 'participantleft' });
    assert.equal(left.reason, 'left');
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});

test('free() without hanging up closes every peer connection and the relay socket too', async () => {
  const { clinician, patient } = await joinBoth();
  try {
    await until(patient, () => window.c.state === 'connected', null, { what: 'connected' });
    const leftovers = await patient.evaluate(() => {
      window.c.free();
      let freed;
      try { void window.c.state; } catch (e) { freed = e.code; }
      return {
        freed,
        pcs: window.__created.pcs.map((pc) => pc.connectionState),
        sockets: window.__created.sockets.map((ws) => ws.readyState),
      };
    });
    assert.equal(leftovers.freed, 'InvalidState');
    assert.ok(leftovers.pcs.length >= 1 && leftovers.pcs.every((s) => s === 'closed'), JSON.stringify(leftovers.pcs));
    assert.ok(leftovers.sockets.length >= 1 && leftovers.sockets.every((s) => s >= 2), JSON.stringify(leftovers.sockets));
  } finally {
    await clinician.evaluate(() => window.c?.hangUp());
    await clinician.close();
    await patient.close();
  }
});

test('join rejects with a coded error: forged token, unreachable relay, bad options', async () => {
  const { clinician, invite } = await newVisit();
  try {
    const errors = await clinician.evaluate(async (link, relayUrl) => {
      const attempt = async (options) => {
        try { await window.t.Consultation.join(options); return 'joined'; }
        catch (e) { return { name: e.name, code: e.code, relayCode: e.relayCode }; }
      };
      const base = { link, relayUrl, role: 'clinician', displayName: 'Dr Rivera' };
      return {
        forged: await attempt({ ...base, token: 'v1.eyJyb29tIjoieCJ9.AAAA' }),
        unreachable: await attempt({ ...base, relayUrl: 'ws://127.0.0.1:9/ws', token: 'x' }),
        badRole: await attempt({ ...base, role: 'surgeon', token: 'x' }),
        badLink: await attempt({ ...base, link: 'https://example.invalid/#r=short&k=short', token: 'x' }),
      };
    }, invite.clinicianLink, relay.wsUrl);
    assert.deepEqual(errors.forged, { name: 'TeleconsultError', code: 'RelayRefused', relayCode: 4001 });
    assert.equal(errors.unreachable.code, 'NetworkError');
    assert.equal(errors.badRole.code, 'InvalidArgument');
    assert.equal(errors.badLink.code, 'InvalidArgument');
  } finally {
    await clinician.close();
  }
});
