// One set of governance dependencies per store: the practice directory is loaded once and shared by the portal
// and the API (reference data changes only by an import, which restarts the app).
import type { AuditLog } from '../audit/audit.ts';
import { loadPracticeDirectory, type PracticeDirectory } from '../reference/practice-directory.ts';
import type { Store } from '../store/store.ts';
import type { GovernanceDeps } from './suppliers.ts';

const directories = new WeakMap<Store, Promise<PracticeDirectory>>();

export async function governanceDeps(db: Store, audit: AuditLog): Promise<GovernanceDeps> {
  let practices = directories.get(db);
  if (!practices) {
    practices = loadPracticeDirectory(db);
    directories.set(db, practices);
    practices.catch(() => directories.delete(db));
  }
  return { db, audit, practices: await practices };
}
