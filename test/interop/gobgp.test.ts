// Interop: bgp-ts against GoBGP 3 in network namespaces (issue "BGP-4 speaker
// core"). The scenario lives in harness/speaker-suite.ts and is the same for
// every peer; only the launcher differs. Skipped with a printed reason when
// root, `ip netns`, the peer or dist/cli.js is missing; under CI=true that fails.

import { describeSpeakerCore } from './harness/speaker-suite.js';

describeSpeakerCore('gobgp');
