// Hostile input at the edge of the package: every argument of every exported function, class
// constructor, static factory and method — enumerated from the package's TypeScript
// declarations with the TypeScript compiler API, so a new export is covered without editing
// this file — is called with each hostile value below, the other arguments being valid. A value
// the declared type refuses must throw (or reject with) a TeleconsultError with a documented
// code and change no state; a value the type admits (a string for a string, `undefined` for an
// optional parameter, a fraction where the type is `number`) may succeed or give a
// TeleconsultError, never anything else. Everything runs in this one process, and afterwards
// ordinary calls still work: nothing trapped, nothing crashed.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const pkgDir = join(root, 'pkg');
const ts = createRequire(import.meta.url)('typescript');

let sdk;
let documented; // the ErrorCode union, from the declarations

// ----- the hostile values -------------------------------------------------------------------

function detachedBuffer() {
  const b = new ArrayBuffer(16);
  structuredClone(b, { transfer: [b] });
  return b;
}

function throwingProxy() {
  const boom = () => { throw new Error('trap'); };
  return new Proxy({}, {
    get: boom, set: boom, has: boom, deleteProperty: boom, ownKeys: boom, getPrototypeOf: boom,
    setPrototypeOf: boom, isExtensible: boom, preventExtensions: boom, getOwnPropertyDescriptor: boom,
    defineProperty: boom, apply: boom, construct: boom,
  });
}

/** Each value with the kinds of declared type that admit it (see `admits`). */
const HOSTILE = [
  { name: 'null', make: () => null, admittedBy: ['null'] },
  { name: 'undefined', make: () => undefined, admittedBy: ['undefined'] },
  { name: 'NaN', make: () => Number.NaN, admittedBy: [] },
  { name: 'Infinity', make: () => Infinity, admittedBy: [] },
  { name: '-Infinity', make: () => -Infinity, admittedBy: [] },
  { name: '-1', make: () => -1, admittedBy: ['number'] },
  { name: '0.5', make: () => 0.5, admittedBy: ['number'] },
  { name: '2**53', make: () => 2 ** 53, admittedBy: ['number'] },
  { name: 'BigInt', make: () => 10n, admittedBy: ['bigint'] },
  { name: "'0'", make: () => '0', admittedBy: ['string', "'0'"] },
  { name: "''", make: () => '', admittedBy: ['string', "''"] },
  { name: '1 MB string', make: () => 'a'.repeat(1 << 20), admittedBy: ['string'] },
  { name: '{}', make: () => ({}), admittedBy: ['emptyObject'] },
  { name: '[]', make: () => [], admittedBy: ['array'] },
  { name: 'number for a string', make: () => 42, admittedBy: ['number'] },
  { name: 'string for bytes', make: () => 'deadbeef', admittedBy: ['string'] },
  { name: 'detached ArrayBuffer', make: detachedBuffer, admittedBy: [] },
  { name: 'throwing Proxy', make: throwingProxy, admittedBy: [] },
];

// ----- the declarations ---------------------------------------------------------------------

const BYTES = new Set(['Uint8Array', 'ArrayBuffer', 'ArrayBufferView', 'DataView', 'ArrayBufferLike', 'BufferSource']);

/** What a declared parameter type admits: a set of kinds ('string', "'literal'", 'number',
 *  'null', 'undefined', 'bigint', 'array', 'emptyObject', 'bytes', 'function', 'any', …). */
function kindsOf(checker, type, kinds = new Set()) {
  if (type.flags & ts.TypeFlags.TypeParameter) {
    const c = checker.getBaseConstraintOfType(type);
    return c ? kindsOf(checker, c, kinds) : (kinds.add('any'), kinds);
  }
  for (const t of type.isUnion() ? type.types : [type]) {
    const f = t.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) kinds.add('any');
    else if (f & ts.TypeFlags.StringLiteral) kinds.add(`'${t.value}'`);
    else if (f & ts.TypeFlags.String) kinds.add('string');
    else if (f & ts.TypeFlags.NumberLiteral) kinds.add(`#${t.value}`);
    else if (f & ts.TypeFlags.Number) kinds.add('number');
    else if (f & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) kinds.add('boolean');
    else if (f & ts.TypeFlags.BigInt) kinds.add('bigint');
    else if (f & ts.TypeFlags.Null) kinds.add('null');
    else if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) kinds.add('undefined');
    else if (f & ts.TypeFlags.Object) {
      const name = t.getSymbol()?.getName();
      if (checker.isArrayType(t) || checker.isTupleType(t)) kinds.add('array');
      else if (name && BYTES.has(name)) kinds.add('bytes');
      else if (t.getCallSignatures().length > 0) kinds.add('function');
      else {
        const props = checker.getPropertiesOfType(t);
        if (props.every((p) => p.flags & ts.SymbolFlags.Optional)) kinds.add('emptyObject');
        kinds.add('object');
      }
    } else if (f & ts.TypeFlags.Intersection) kinds.add('object');
  }
  return kinds;
}

function params(checker, sig) {
  return sig.getParameters().map((p) => {
    const decl = p.valueDeclaration;
    const type = checker.getTypeOfSymbolAtLocation(p, decl);
    const optional = Boolean(decl.questionToken || decl.initializer || decl.dotDotDotToken);
    const kinds = kindsOf(checker, type);
    if (optional) kinds.add('undefined');
    return { name: p.getName(), kinds, typeText: checker.typeToString(type) };
  });
}

function isPrivate(decl) {
  return (ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
}

/** Every callable the package exports, from both entries (`teleconsult` and
 *  `teleconsult/devices`): { owner, member, kind, params }. */
function callables() {
  const all = { list: [], codes: undefined };
  for (const entry of ['node.d.ts', 'devices-node.d.ts']) {
    const { list, codes } = callablesOf(join(pkgDir, entry));
    all.list.push(...list);
    all.codes ??= codes;
  }
  return all;
}

/** Every callable exported by the declarations `entry`. */
function callablesOf(entry) {
  const program = ts.createProgram([entry], {
    strict: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'],
    module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
  });
  const checker = program.getTypeChecker();
  const mod = checker.getSymbolAtLocation(program.getSourceFile(entry));
  const out = [];
  let codes;
  for (let sym of checker.getExportsOfModule(mod)) {
    const exported = sym.getName();
    if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    if (exported === 'ErrorCode' && sym.flags & ts.SymbolFlags.TypeAlias) {
      codes = [...kindsOf(checker, checker.getDeclaredTypeOfSymbol(sym))].map((k) => k.slice(1, -1));
    }
    if (!(sym.flags & ts.SymbolFlags.Value)) continue; // a type only
    const decls = sym.declarations ?? [];
    if (sym.flags & ts.SymbolFlags.Function) {
      for (const sig of checker.getTypeOfSymbol(sym).getCallSignatures()) {
        out.push({ owner: exported, member: null, kind: 'function', params: params(checker, sig) });
      }
    } else if (sym.flags & ts.SymbolFlags.Class) {
      const classDecl = decls.find(ts.isClassDeclaration);
      const ctorType = checker.getTypeOfSymbol(sym);
      const ctorDecls = classDecl.members.filter(ts.isConstructorDeclaration);
      if (!ctorDecls.some(isPrivate)) {
        for (const sig of ctorType.getConstructSignatures()) {
          out.push({ owner: exported, member: 'constructor', kind: 'constructor', params: params(checker, sig) });
        }
      }
      for (const prop of checker.getPropertiesOfType(ctorType)) {
        if (prop.getName() === 'prototype' || !(prop.flags & ts.SymbolFlags.Method)) continue;
        for (const sig of checker.getTypeOfSymbol(prop).getCallSignatures()) {
          out.push({ owner: exported, member: prop.getName(), kind: 'static', params: params(checker, sig) });
        }
      }
      for (const prop of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym))) {
        if (!(prop.flags & ts.SymbolFlags.Method) || prop.getName().startsWith('__@')) continue;
        if ((prop.declarations ?? []).some(isPrivate)) continue;
        for (const sig of checker.getTypeOfSymbol(prop).getCallSignatures()) {
          out.push({ owner: exported, member: prop.getName(), kind: 'method', params: params(checker, sig) });
        }
      }
    } else if (sym.flags & ts.SymbolFlags.Variable) {
      // ErrorCode: a frozen object, nothing to call.
    }
  }
  return { list: out, codes };
}

// ----- valid arguments and instances ---------------------------------------------------------

const unhex = (h) => Uint8Array.from(h.match(/../g), (b) => parseInt(b, 16));
const CLINICIAN_SEED = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
const notice = { uri: 'https://clinic.example/notice', version: '3', language: 'en', text: 'We share your video.' };
const dr = { kind: 'Practitioner', id: 'dr-1' };
const ctx = { controller: { name: 'Clinic', contact: 'privacy@clinic.example' }, jurisdiction: 'EU', withdrawalMethod: 'Settings' };
const HR = [0x00, 72]; // Heart Rate Measurement: flags 0, 72 bpm

/** A stand-in for a joined Consultation (what Node.js can offer: no WebRTC here), with the
 *  surface the SDK uses, as tests/node/consent.test.mjs and devices.test.mjs build it. */
function standIn(id) {
  const target = new EventTarget();
  return {
    participantId: id,
    addEventListener: (type, fn) => target.addEventListener(type, fn),
    removeEventListener: (type, fn) => target.removeEventListener(type, fn),
    sendData() {},
  };
}

/** Valid arguments for the positions a hostile value does not take, where the generic ones
 *  (from the declared type) would not do. Key: `Owner.member` (`constructor` for `new`). */
let VALID;
/** The instances methods are called on, and how to snapshot their state. */
let INSTANCES;

function genericValid(p) {
  const k = p.kinds;
  if (k.has('undefined')) return undefined;
  const literal = [...k].find((x) => x.startsWith("'"));
  if (literal) return literal.slice(1, -1);
  if (k.has('string')) return '00000000000000c1';
  if (k.has('number')) return 0;
  if (k.has('boolean')) return false;
  if (k.has('bytes')) return new Uint8Array(32);
  if (k.has('array')) return [];
  if (k.has('function')) return () => {};
  if (k.has('emptyObject')) return {};
  return standIn('00000000000000c1');
}

/** Whether the declared type of `p` admits the hostile value `h`. */
function admits(p, h) {
  if (p.kinds.has('any')) return true;
  return h.admittedBy.some((k) => p.kinds.has(k));
}

/** Calls `f`, awaiting a returned Promise for at most 5 s; `{ ok, value | error }`. */
async function outcome(f) {
  let r;
  try {
    r = f();
  } catch (error) {
    return { ok: false, error, sync: true };
  }
  if (!r || typeof r.then !== 'function') return { ok: true, value: r };
  let timer;
  const never = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('the Promise never settled')), 5000); });
  try {
    return { ok: true, value: await Promise.race([r, never]) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  sdk = { ...await import(join(pkgDir, 'node.mjs')), ...await import(join(pkgDir, 'devices-node.mjs')) };
  const CLINICIAN_PK = unhex(new sdk.ConsentReplica({ clinicianSigningKey: CLINICIAN_SEED }).publicKey);
  const manager = await sdk.ConsentManager.open({ patient: 'pat-1', recipient: dr, notice, clinicianPublicKey: CLINICIAN_PK });
  await manager.grant({ purposes: ['TREAT'], categories: ['video', 'audio', 'heart-rate'] });
  const replica = new sdk.ConsentReplica({ clinicianSigningKey: CLINICIAN_SEED, notice, recipient: dr, ledgerId: manager.ledgerId, patientPublicKey: manager.publicKey });
  const checkpoint = replica.receive(manager.entryBytes(0));
  const reading = sdk.captureReading('2a37', HR, { deviceId: 'dev-1', now: 1_700_000_000_000 });
  const bridge = new sdk.DeviceBridge({ utcOffsetMinutes: 60 });
  const session = new sdk.DeviceSession();
  const share = new sdk.ReadingShare(standIn('00000000000000a1'), '00000000000000c1');
  const receiver = new sdk.ReadingReceiver(standIn('00000000000000c1'));
  const json = (x) => JSON.stringify(x, (_, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
  INSTANCES = {
    ConsentManager: { it: manager, state: () => json([manager.export(), manager.verify(), manager.list(), manager.checkpoint]) },
    // checkpoint() countersigns afresh (a new time and signature): compare what it vouches for.
    ConsentReplica: { it: replica, state: () => json([replica.export(), replica.verify(), replica.timing(), replica.checkpoint()?.size, replica.checkpoint()?.head]) },
    DeviceBridge: { it: bridge, state: () => json(bridge.device('dev-1')) },
    DeviceSession: { it: session, state: () => json(session.devices()) },
    ReadingShare: { it: share, state: () => json([share.pending, share.pendingIds()]) },
    ReadingReceiver: { it: receiver, state: () => 'no readable state' },
  };
  VALID = {
    'verifyLedger': [manager.export(), manager.publicKey, undefined],
    'captureReading': ['2a37', HR, { deviceId: 'dev-1' }],
    'parseMeasurement': ['2a37', HR],
    'measurementToFhir': [reading, { subject: 'Patient/p1' }],
    'createInvite': ['https://clinic.example/join', 'https://clinic.example/console'],
    'shareReadings': [standIn('00000000000000a1'), '00000000000000c1', bridge, undefined],
    'requireCapabilities': [['webCrypto']],
    'TeleconsultError.constructor': ['InvalidState', 'message'],
    'ConsentManager.open': [{ patient: 'pat-2', storage: 'memory' }],
    'ConsentManager.receipt': [0, ctx],
    'ConsentManager.acceptCheckpoint': [checkpoint.bytes, checkpoint.clinicianPublicKey],
    'ConsentManager.attachConsultation': [standIn('00000000000000a1'), '00000000000000c1', undefined],
    'ConsentManager.recordSasConfirmed': [standIn('00000000000000a1'), '00000000000000c1'],
    'ConsentReplica.attachConsultation': [standIn('00000000000000c1'), '00000000000000a1'],
    'ConsentReplica.constructor': [{ clinicianSigningKey: CLINICIAN_SEED }],
    'ConsentReplica.open': [{ clinicianSigningKey: CLINICIAN_SEED, storage: 'memory' }],
    'DeviceBridge.push': [{ deviceId: 'dev-1', characteristic: '2a37', value: HR }],
    'ReadingShare.constructor': [standIn('00000000000000a1'), '00000000000000c1', undefined],
    'ReadingReceiver.constructor': [standIn('00000000000000c1'), undefined],
    'ReadingShare.share': [reading],
    'ReadingShare.attach': [bridge],
    'Consultation.sendData': ['00000000000000c1', new Uint8Array(2)],
    'Consultation.startScreenShare': [{ camera: 'pause' }],
    'Chat.send': ['Hello'],
    'Chat.markRead': ['00000000000000c1', 1],
    'Chat.setTyping': [true],
    'Chat.progress': ['00000000000000c1'],
    'Chat.toFhir': [{ subject: 'Patient/p1', encounter: 'Encounter/e1', senders: { '00000000000000c1': 'Practitioner/dr-1' } }],
    'Chat.persist': ['visit-1'],
    'Files.send': [new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], { type: 'image/jpeg' }), { to: '00000000000000c1', name: 'a.jpg' }],
    'Files.cancel': ['00000000000000c1', '0000000000000001'],
    'Files.blob': [{ transferId: '0000000000000001', author: '00000000000000c1', role: 'patient', recipient: '00000000000000a1', name: 'a.jpg', type: 'image/jpeg', size: 4, sha256: '00', sentAt: 0, own: false }],
    'Files.toFhir': [{ subject: 'Patient/p1', encounter: 'Encounter/e1', senders: { '00000000000000c1': 'Practitioner/dr-1' } }],
  };
  for (const m of ['addEventListener', 'removeEventListener']) {
    for (const owner of ['ConsentManager', 'ConsentReplica', 'DeviceBridge', 'DeviceSession', 'ReadingShare', 'ReadingReceiver', 'Consultation', 'Recording', 'FileTransfer']) {
      VALID[`${owner}.${m}`] = [{ ConsentManager: 'change', ConsentReplica: 'change', DeviceBridge: 'reading', DeviceSession: 'reading', ReadingShare: 'delivered', ReadingReceiver: 'reading', Consultation: 'statechange', Recording: 'stop', FileTransfer: 'progress' }[owner], () => {}, undefined];
    }
  }
});

// ----- the matrix ------------------------------------------------------------------------------

test('every argument of every export refuses hostile values with a documented TeleconsultError and changes nothing', async (t) => {
  const { list, codes } = callables();
  documented = new Set(codes);
  assert.ok(documented.has('InvalidArgument') && documented.size >= 10, 'the ErrorCode union was read from the declarations');
  assert.ok(list.length >= 60, `the declarations name ${list.length} callables`);

  const perExport = new Map();
  const failures = [];
  const unreachable = new Set();
  let cases = 0;

  for (const c of list) {
    const key = c.member ? `${c.owner}.${c.member}` : c.owner;
    const cls = sdk[c.owner];
    assert.ok(cls !== undefined, `${c.owner} is declared but not exported at runtime`);
    // What to call: functions and statics directly; methods on a live instance, or — where
    // Node.js cannot create one (Consultation, Recording need WebRTC) — on a wrapper that holds
    // no wasm object: its arguments are still checked first, and a valid call gives InvalidState.
    let receiver = null;
    let state = () => 'stateless';
    let live = true;
    if (c.kind === 'method') {
      const inst = INSTANCES[c.owner];
      if (inst) {
        receiver = inst.it;
        state = inst.state;
      } else {
        receiver = Object.create(cls.prototype);
        live = false;
        unreachable.add(c.owner);
      }
    }
    const valid = VALID[key] ?? c.params.map(genericValid);
    const invoke = (args) => {
      if (c.kind === 'function') return cls(...args);
      if (c.kind === 'constructor') return new cls(...args);
      if (c.kind === 'static') return cls[c.member](...args);
      return receiver[c.member](...args);
    };
    const stats = perExport.get(key) ?? { refused: 0, admitted: 0, codes: new Set() };
    perExport.set(key, stats);

    for (let i = 0; i < c.params.length; i++) {
      const p = c.params[i];
      for (const h of HOSTILE) {
        const args = valid.slice(0, c.params.length);
        while (args.length < c.params.length) args.push(undefined);
        args[i] = h.make();
        const where = `${key}(${p.name}: ${p.typeText} = ${h.name})`;
        const before = state();
        const r = await outcome(() => invoke(args));
        cases++;
        const typeAdmits = admits(p, h);
        if (r.ok) {
          if (typeAdmits) stats.admitted++;
          else failures.push(`${where}: accepted a value its declared type refuses`);
          continue;
        }
        const e = r.error;
        if (!(e instanceof sdk.TeleconsultError)) {
          failures.push(`${where}: threw ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 120)} (not a TeleconsultError)`);
          continue;
        }
        if (!documented.has(e.code)) failures.push(`${where}: undocumented code ${e.code}`);
        if (!typeAdmits && live && e.code !== 'InvalidArgument') {
          // A wrong type never reaches the core: it is refused at the edge.
          failures.push(`${where}: a wrong type gave ${e.code}, not InvalidArgument`);
        }
        if (!typeAdmits && !live && e.code !== 'InvalidArgument') {
          failures.push(`${where}: arguments were not checked before the missing instance (${e.code})`);
        }
        if (h.name === '1 MB string' || h.name === 'throwing Proxy') {
          assert.ok(e.message.length < 1000, `${where}: the message echoes the value`);
        }
        if (e.message.includes('deadbeef')) failures.push(`${where}: the message echoes the value`);
        if (c.kind === 'method' && live && state() !== before) failures.push(`${where}: the refused call changed state`);
        stats[typeAdmits ? 'admitted' : 'refused']++;
        stats.codes.add(e.code);
      }
    }
  }

  const rows = [...perExport].map(([k, s]) => `${k}: ${s.refused} refused, ${s.admitted} admitted by type [${[...s.codes].join(' ')}]`);
  t.diagnostic(`${cases} cases over ${perExport.size} callables; no instance in Node.js for: ${[...unreachable].join(', ') || 'none'}`);
  for (const row of rows) t.diagnostic(row);
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases failed`);
  assert.ok(cases > 1000, `${cases} cases`);
});

test('after the matrix the module still works: ordinary calls succeed in the same process', async () => {
  const m = await sdk.ConsentManager.open({ patient: 'pat-after', storage: 'memory' });
  const rec = await m.grant({ purposes: ['TREAT'], categories: ['video'], recipient: dr, notice });
  assert.equal(rec.seq, 0);
  assert.equal(await m.withdraw(0), 1);
  assert.equal(sdk.verifyLedger(m.export(), m.publicKey).entries, 2);
  assert.equal(sdk.parseMeasurement('2a37', HR).value.heartRate, 72);
  const { manager } = { manager: INSTANCES.ConsentManager.it };
  assert.equal(manager.size, 1, 'the matrix recorded nothing in the shared ledger');
  assert.match(sdk.createInvite('https://clinic.example/join', 'https://clinic.example/console').patientLink, /#/);
});

test('wrong types are refused before the core, naming the parameter and never echoing the value', async () => {
  const m = INSTANCES.ConsentManager.it;
  for (const bad of [null, '0', 0.5, -1, 2 ** 53, 10n, {}]) {
    await assert.rejects(m.withdraw(bad), (e) => e instanceof sdk.TeleconsultError && e.code === 'InvalidArgument' && /grantSeq/.test(e.message));
  }
  await assert.rejects(m.acceptCheckpoint(null, 'ab'), { code: 'InvalidArgument', message: /checkpoint/ });
  assert.throws(() => sdk.verifyLedger(m.export(), 42), { code: 'InvalidArgument', message: /patientPublicKey/ });
  assert.throws(() => sdk.createInvite({}, 'x'), { code: 'InvalidArgument', message: /patientPage/ });
  await assert.rejects(m.recordSasConfirmed(42, 'x'), { code: 'InvalidArgument' });
  assert.throws(() => sdk.createInvite('secret-patient-value', 5), (e) => !e.message.includes('secret-patient-value'));
  assert.equal(m.size, 1);
});

test('errors from the core are TeleconsultError instances with the same codes', async () => {
  assert.throws(() => sdk.requireCapabilities(['webBluetooth']), (e) => e instanceof sdk.TeleconsultError && e instanceof Error && e.name === 'TeleconsultError' && e.code === sdk.ErrorCode.Unsupported);
  await assert.rejects(sdk.ConsentManager.open({ patient: 'p', storage: 'indexeddb' }), (e) => e instanceof sdk.TeleconsultError && e.code === 'Unsupported');
  const tampered = INSTANCES.ConsentManager.it.export();
  tampered[tampered.length - 1] ^= 1;
  assert.throws(() => sdk.verifyLedger(tampered, INSTANCES.ConsentManager.it.publicKey), (e) => e instanceof sdk.TeleconsultError && e.code === 'Consent' && typeof e.consentCode === 'string');
  const cjs = createRequire(import.meta.url)(join(pkgDir, 'node.cjs'));
  assert.equal(cjs.TeleconsultError, sdk.TeleconsultError, 'ESM and CommonJS share one module');
  const devices = createRequire(import.meta.url)(join(pkgDir, 'devices-node.cjs'));
  assert.equal(devices.DeviceBridge, sdk.DeviceBridge, 'ESM and CommonJS share the devices module');
  // The devices module throws the same class as the call module.
  assert.throws(() => devices.parseMeasurement('2a37', 42), (e) => e instanceof sdk.TeleconsultError && e.code === 'InvalidArgument');
  assert.throws(() => sdk.parseMeasurement('2a37', [0x01]), (e) => e instanceof cjs.TeleconsultError && e.code === 'MalformedMeasurement');
});
