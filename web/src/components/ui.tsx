import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { can, type Role } from "../lib/api.ts";

/** Loads `load()` on mount and when `deps` change; `reload` reads again after a write. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | undefined; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then((d) => live && (setData(d), setError(null)), (err) => live && setError((err as Error).message));
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, reload: useCallback(() => setN((x) => x + 1), []) };
}

/** Outcome of the last write: confirmed or its error, announced to screen readers. */
export type Outcome = { ok: boolean; text: string } | null;
export function OutcomeNote({ outcome }: { outcome: Outcome }) {
  if (!outcome) return null;
  return <p class={outcome.ok ? "ok-note" : "error"} role={outcome.ok ? "status" : "alert"}>{outcome.text}</p>;
}

/** Runs a write, then reports "done" or the API's error as written. */
export function useWrite(): [Outcome, (what: string, run: () => Promise<unknown>, after?: () => void) => Promise<boolean>] {
  const [outcome, setOutcome] = useState<Outcome>(null);
  const write = async (what: string, run: () => Promise<unknown>, after?: () => void) => {
    try {
      await run();
      setOutcome({ ok: true, text: what });
      after?.();
      return true;
    } catch (err) {
      setOutcome({ ok: false, text: (err as Error).message });
      return false;
    }
  };
  return [outcome, write];
}

/** Children only for a user with at least `role`: a viewer sees no write controls at all. */
export function IfRole({ role, children }: { role: Role; children: ComponentChildren }) {
  return can(role) ? <>{children}</> : null;
}

export function Panel({ title, id, children, actions }: { title: string; id: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel" aria-labelledby={id}>
      <div class="page-head"><h2 id={id}>{title}</h2>{actions}</div>
      {children}
    </section>
  );
}

/** Asks before a destructive write (a native dialog: keyboard and screen reader ready). */
export function confirmed(question: string): boolean {
  return window.confirm(question);
}
