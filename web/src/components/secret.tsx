import { useState } from "preact/hooks";

/** A secret shown this once, with a copy button (the server keeps only its hash). */
export function OneTimeSecret({ label, value, children }: { label: string; value: string; children?: preact.ComponentChildren }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // No clipboard (plain http on another host): select it for Ctrl-C instead.
      const el = document.getElementById("one-time-secret");
      if (el) getSelection()?.selectAllChildren(el);
    }
  };
  return (
    <div class="ok-note" role="status">
      <p><strong>{label}</strong> — shown only now; store it safely.</p>
      <div class="secret"><code id="one-time-secret">{value}</code><button type="button" class="secondary" onClick={copy}>{copied ? "Copied" : "Copy"}</button></div>
      {children}
    </div>
  );
}
