// Node.js side of run.sh: converts the same two readings N times with one codec build.
const which = process.argv[2];
const m = require(`./out/${which}/c.js`);
const bp = new Uint8Array([0x1e, 0x78,0x00, 0x50,0x00, 0x5d,0x00, 0xe8,0x07,12,7,10,30,0, 0x48,0x00, 1, 0x00,0x00]);
const hr = new Uint8Array([0x00, 72]);
for (const [name, uuid, b] of [['bp',0x2a35,bp],['hr',0x2a37,hr]]) {
  let v = m.convert(uuid, b, 1733560000000n);
  if (which !== 'base' && name==='bp') console.error(JSON.stringify(v).slice(0,200));
  for (let i=0;i<2000;i++) m.convert(uuid,b,1733560000000n);
  const N=20000; const t=process.hrtime.bigint();
  for (let i=0;i<N;i++) v=m.convert(uuid,b,1733560000000n);
  const us = Number(process.hrtime.bigint()-t)/N/1000;
  console.log(`${which} ${name} ${us.toFixed(2)} us/convert`);
}
