// The far side of the BFD benchmark (bench/bfd.ts): one BFD engine per local
// address (each receiving on ADDRESS:3784, one session toward PEER), on the
// main loop of this otherwise idle process, so its timing is not what is
// measured. Prints {"up":n} once all are Up, and on a "report" line on stdin
// {"downs":n}: the Up -> Down transitions it saw (false Downs, seen from the peer).
// Usage: bfd-responder.js PEER MIN_MS MULT ADDRESS...

import { createInterface } from 'node:readline';
import { inlineBfdService } from '../../src/bfd/service.js';

const [peer, minMs, mult, ...addresses] = process.argv.slice(2);
let downs = 0;
let up = 0;
const services = addresses.map((address) => {
  const s = inlineBfdService({ transport: { listen: { 4: address } }, onError: (m) => console.error(m) });
  s.onStateChange((c) => {
    if (c.to === 'Up') up++;
    if (c.from === 'Up' && c.to === 'Down') downs++;
    if (up === addresses.length && c.to === 'Up') console.log(JSON.stringify({ up }));
  });
  s.add({ peer: peer!, localAddress: address, minRx: Number(minMs), minTx: Number(minMs), multiplier: Number(mult) });
  return s;
});
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'report') console.log(JSON.stringify({ downs }));
  if (line.trim() === 'quit') break;
}
await Promise.all(services.map((s) => s.stop()));
process.exit(0);
