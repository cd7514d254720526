// Registers the source modules' platform facts (labels, capabilities, reply lengths) for tests
// that call care/ and slack/ functions without starting carebot (vitest `setupFiles`).
import '../../src/sources/index.js';
