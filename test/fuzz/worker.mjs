// Entry of a fuzz worker thread (test/fuzz/runner.ts starts it): registers tsx so
// that the TypeScript sources load as they are, then runs worker-main.ts.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
