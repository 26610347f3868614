/** A page that is named in the menu but not built yet, saying so instead of failing. */
export function Placeholder({ name, what }: { name: string; what: string }) {
  return (
    <section>
      <h1>{name}</h1>
      <p class="muted">Not built yet: this page will show {what}. The data it needs comes from the REST API (<a href="/docs">/docs</a>).</p>
    </section>
  );
}
