import { fileURLToPath } from 'node:url';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { readEnvironment } from '../main.js';
import { formatCheckLine, runSetupCheck } from './index.js';

/**
 * `npm run check` (`node dist/check/main.js` in production): reads the same environment, .env and
 * carebot.config.yaml as carebot, checks each thing against the real APIs, prints one line each,
 * and exits 1 when anything failed.
 */
async function main(): Promise<void> {
  const env = readEnvironment();
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) process.stdout.write(`✗ ${problem}\n`);
    process.stdout.write('✗ the configuration has problems (above); fix them, then run the check again\n');
    process.exit(1);
  }
  const result = await runSetupCheck(config);
  for (const line of result.lines) process.stdout.write(`${formatCheckLine(line)}\n`);
  const failed = result.lines.filter((line) => !line.ok).length;
  process.stdout.write(
    failed === 0 ? 'All checks passed.\n' : `${failed} of ${result.lines.length} checks failed.\n`,
  );
  // Open sockets (keep-alive) must not keep the answer waiting.
  process.exit(failed === 0 ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
