// Progressive enhancement only: every page works without this script.
import { initAll } from '__NHSUK_JS__';
initAll();

// Assurance run pages: while a run is active the progress bar follows its JSON status every 2 seconds, and says
// when it has finished with a link to the result (no automatic reload, so nobody loses their place).
const run = document.querySelector('[data-run-status-url]');
if (run) {
  const bar = run.querySelector('progress');
  const label = run.querySelector('[data-run-label]');
  const finished = run.querySelector('[data-run-finished]');
  const tick = async () => {
    let s;
    try {
      const res = await fetch(run.dataset.runStatusUrl, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) return void setTimeout(tick, 5000);
      s = await res.json();
    } catch {
      return void setTimeout(tick, 5000);
    }
    bar.value = s.progress;
    bar.textContent = `${s.progress}%`;
    label.textContent = `Progress: ${s.progress}%${s.progressNote ? `. ${s.progressNote}` : ''}`;
    if (!s.finished) return void setTimeout(tick, 2000);
    const link = document.createElement('a');
    link.href = location.pathname;
    link.textContent = 'See the result';
    finished.replaceChildren(`The run has finished (${s.status === 'error' ? 'it could not run' : s.status}). `, link);
  };
  setTimeout(tick, 2000);
}
