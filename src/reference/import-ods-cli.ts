// `npm run import:ods -- FILE...`: imports ODS files into the configured store, printing each bad row and a summary.
import path from 'node:path';
import { openStore } from '../store/open.ts';
import { applyOdsImport, formatProblem, planOdsFiles, reportWithoutApplying, summaryLine } from './ods-import.ts';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    console.error('usage: npm run import:ods -- FILE...  (epraccur.csv, commissioners_derived_from_epraccur.csv, pcn_system_supplier_counts_with_icb.csv; any order)');
    return 1;
  }
  const plan = await planOdsFiles(argv);

  // A run with no good row writes nothing, so it need not open (or create) a database.
  let report;
  if (plan.goodRows > 0) {
    const databaseUrl = process.env.DATABASE_URL || undefined;
    const db = await openStore({ databaseUrl, dataDir: databaseUrl ? undefined : path.resolve(process.env.DATA_DIR || '.data') });
    try {
      report = await applyOdsImport(db, plan);
    } finally {
      await db.close();
    }
  } else {
    report = reportWithoutApplying(plan);
  }

  for (const p of report.problems) console.error(formatProblem(p));
  for (const f of report.files) console.log(`${f.path} (${f.kind}): ${f.imported} rows good, ${f.skipped} bad, ${f.changed} new or changed`);
  if (report.warnings > 0) console.log(`${report.warnings} rows kept with an ICB or region the hierarchy does not know (see warnings)`);
  console.log(summaryLine(report));
  return report.imported > 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack ?? err.message : String(err));
    process.exitCode = 1;
  },
);
