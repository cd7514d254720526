/**
 * PostgreSQL's auto_explain for every session of a database: each statement's plan, with actual
 * times and buffers, comes back as a notice (openDatabase's `onNotice`). The job-plans and
 * care-stats-plans benchmarks read their plans this way.
 */
const AUTO_EXPLAIN_SETTINGS = [
  "session_preload_libraries = 'auto_explain'",
  'auto_explain.log_min_duration = 0',
  'auto_explain.log_analyze = on',
  'auto_explain.log_buffers = on',
  'auto_explain.log_timing = on',
  "auto_explain.log_level = 'notice'",
];

/** Turns auto_explain on for new sessions of `database`, through a client allowed to alter it. */
export async function enableAutoExplain(
  admin: { unsafe(query: string): PromiseLike<unknown> },
  database: string,
): Promise<void> {
  for (const setting of AUTO_EXPLAIN_SETTINGS)
    await admin.unsafe(`alter database ${database} set ${setting}`);
}

/** Turns it off again (the settings reset to the server's). */
export async function disableAutoExplain(
  admin: { unsafe(query: string): PromiseLike<unknown> },
  database: string,
): Promise<void> {
  for (const setting of AUTO_EXPLAIN_SETTINGS)
    await admin.unsafe(`alter database ${database} reset ${setting.split(' = ')[0]}`);
}
