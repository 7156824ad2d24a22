/**
 * "Select all on this page" for a list form: a header checkbox, hidden until the script in
 * assets/select-all.js shows it (the Content-Security-Policy allows scripts from files only).
 * Without the script every row is still ticked on its own.
 */
export function SelectAllBox({ name, label }: { name: string; label: string }) {
  return (
    <>
      <span class="visually-hidden">Select</span>
      <input
        type="checkbox"
        id={`select-all-${name}`}
        data-select-all={name}
        aria-label={label}
        hidden
      />
    </>
  );
}

export function SelectAllScript() {
  return <script src="/assets/select-all.js" defer />;
}
