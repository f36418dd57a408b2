// `npm run bench`: runs each benchmark module in turn, codec first. To add a
// benchmark, export a run function from bench/<name>.ts and append a step here.

const steps: readonly { readonly name: string; readonly run: () => Promise<unknown> }[] = [
  { name: 'codec', run: async () => (await import('./codec.js')).runCodecBench() },
  { name: 'rib', run: async () => (await import('./rib.js')).runRibBench() },
];

const only = process.argv.slice(2);
for (const step of steps) {
  if (only.length > 0 && !only.includes(step.name)) continue;
  console.log(`== ${step.name}`);
  await step.run();
}
