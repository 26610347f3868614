import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

/**
 * A page whose code is fetched the first time it is shown (an esbuild chunk), so the fleet
 * page — the one every visit starts at — does not wait for the charts library and the
 * other pages to be compiled and run.
 */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let loading: Promise<ComponentType<P>> | undefined;
  return function LazyPage(props: P) {
    const [Page, setPage] = useState<ComponentType<P> | undefined>(() => loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (Page) return;
      let shown = true;
      loading ??= load().then((c) => (loaded = c));
      loading.then((c) => shown && setPage(() => c), (err: Error) => {
        loading = undefined;
        if (shown) setError(err.message);
      });
      return () => {
        shown = false;
      };
    }, []);
    if (error) return <p class="error" role="alert">This page's code could not be loaded ({error}); the dashboard may have been updated: reload the page.</p>;
    return Page ? <Page {...props} /> : <p class="muted" aria-busy="true">Loading…</p>;
  };
}
