// Prioritisation rounds: proposals are decided in calendar quarters, named like 2026-Q4. The database derives a
// decision's round from its date the same way (decisions.round, migration 007).

/** The round a moment falls in (quarters in UTC, as the database counts them). */
export function roundOf(at: Date): string {
  return `${at.getUTCFullYear()}-Q${Math.floor(at.getUTCMonth() / 3) + 1}`;
}
