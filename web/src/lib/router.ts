import { useEffect, useState } from "preact/hooks";

/* A history router of a few lines: app links are plain <a href>, clicks stay in the page. */
const listeners = new Set<() => void>();

export function navigate(to: string, replace = false): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const fn of listeners) fn();
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      removeEventListener("popstate", update);
    };
  }, []);
  return path;
}

/** Same-origin link clicks become navigations (modifier clicks open tabs as usual). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest("a");
    if (!a || a.target || a.origin !== location.origin || a.hasAttribute("download")) return;
    if (a.pathname.startsWith("/v1") || a.pathname.startsWith("/docs")) return;
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}
