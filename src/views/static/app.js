// Progressive enhancement only: every page works without this script.
import { initAll } from '__NHSUK_JS__';
initAll();
