// The core bundle (dist/core.js): everything the main and post steps need without an SDK.
// dist/index.js and dist/post.js are two-line files that import it and call their step, so
// both steps share one copy of the core and the SDKs stay in dist/connected.js, which
// load-connected.ts imports only when a step has to reach Azure or the cluster.
export { run } from './main.ts';
export { runPostStep } from './post.ts';
