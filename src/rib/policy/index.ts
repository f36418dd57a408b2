// The policy engine's public surface: compile config rules once, evaluate
// routes on import and export (policy.ts), match conditions (match.ts),
// set-actions (actions.ts) and community text plus the RFC 1997 well-known
// communities (communities.ts).

export * from './communities.js';
export * from './match.js';
export * from './actions.js';
export * from './policy.js';
