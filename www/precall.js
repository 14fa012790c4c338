// The landing page's pre-call check: what this browser offers the visit (see checks.js).
import { version } from '/pkg/index.js';
import { capabilityChecks, relayCheck, renderChecks } from '/checks.js';

document.getElementById('version').textContent = version();
const checks = [...capabilityChecks(), await relayCheck()];
renderChecks(document.getElementById('checks'), document.getElementById('summary'), checks);
