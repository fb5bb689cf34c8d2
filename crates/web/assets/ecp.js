// Progressive enhancement for bulk edit (seed 001): a click on a row selects
// it alone, Shift+click selects a range, Ctrl+click (Cmd+click) adds or drops
// one row. Without this script the checkboxes do the same job.
(() => {
  'use strict';
  const table = document.querySelector('table[data-bulk]');
  if (!table) return;
  const boxes = () => Array.from(table.querySelectorAll('input[name="mailbox"]'));
  let anchor = null;
  const range = (box, checked) => {
    const all = boxes();
    const [a, b] = [all.indexOf(anchor), all.indexOf(box)].sort((x, y) => x - y);
    all.forEach((x, i) => { if (i >= a && i <= b) x.checked = checked; });
  };
  table.addEventListener('click', (e) => {
    const box = e.target.closest('input[name="mailbox"]');
    if (box) {
      // Shift on the checkbox itself extends the selection to the range.
      if (e.shiftKey && anchor) range(box, box.checked);
      anchor = box;
      return;
    }
    // Links, buttons and labels keep their own behaviour.
    if (e.target.closest('a, button, label, input, select')) return;
    const row = e.target.closest('tr');
    const rowBox = row && row.querySelector('input[name="mailbox"]');
    if (!rowBox) return;
    if (e.shiftKey && anchor) {
      boxes().forEach((x) => { x.checked = false; });
      range(rowBox, true);
    } else if (e.ctrlKey || e.metaKey) {
      rowBox.checked = !rowBox.checked;
      anchor = rowBox;
    } else {
      boxes().forEach((x) => { x.checked = x === rowBox; });
      anchor = rowBox;
    }
    e.preventDefault();
  });
})();
