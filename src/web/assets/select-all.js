// "Select all on this page": a header checkbox ticks every row checkbox of its form. Without this
// script the header box stays hidden and each row is ticked by hand; the forms work the same.
for (const box of document.querySelectorAll("input[data-select-all]")) {
  const form = box.form;
  const name = box.getAttribute("data-select-all");
  const rows = () => [...form.querySelectorAll(`input[type="checkbox"][name="${name}"]`)];
  box.hidden = false;
  box.addEventListener("change", () => {
    for (const row of rows()) row.checked = box.checked;
  });
  form.addEventListener("change", (event) => {
    if (event.target === box) return;
    const all = rows();
    box.checked = all.length > 0 && all.every((r) => r.checked);
    box.indeterminate = !box.checked && all.some((r) => r.checked);
  });
}
