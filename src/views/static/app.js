// Progressive enhancement only: every page works without this script.
import { initAll } from '__NHSUK_JS__';
initAll();

// Assurance run pages: while a run is active the progress bar follows its JSON status every 2 seconds, and says
// when it has finished with a link to the result (no automatic reload, so nobody loses their place).
const RUN_STATES = {
  queued: ['Queued', 'nhsuk-tag--grey'], running: ['Running', 'nhsuk-tag--blue'], passed: ['Passed', 'nhsuk-tag--green'], failed: ['Failed', 'nhsuk-tag--red'], error: ['Could not run', 'nhsuk-tag--orange'],
};
const run = document.querySelector('[data-run-status-url]');
if (run) {
  const bar = run.querySelector('progress');
  const label = run.querySelector('[data-run-label]');
  const finished = run.querySelector('[data-run-finished]');
  const state = document.querySelector('[data-run-state]');
  const tick = async () => {
    let s;
    try {
      const res = await fetch(run.dataset.runStatusUrl, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (!res.ok) return void setTimeout(tick, 5000);
      s = await res.json();
    } catch {
      return void setTimeout(tick, 5000);
    }
    const [text, tag] = RUN_STATES[s.status] ?? [s.status, 'nhsuk-tag--grey'];
    state?.replaceChildren(text);
    state?.setAttribute('class', `nhsuk-tag ${tag}`);
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
