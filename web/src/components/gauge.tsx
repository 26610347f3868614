/** A half-circle gauge of a value in 0..max, coloured by how close to full it is. */
export function Gauge({ label, value, max = 100, text }: { label: string; value: number | undefined; max?: number; text: string }) {
  const share = value === undefined ? 0 : Math.max(0, Math.min(1, value / max));
  const angle = Math.PI * (1 - share);
  const x = 50 + 40 * Math.cos(angle), y = 50 - 40 * Math.sin(angle);
  const tone = share >= 0.9 ? "bad" : share >= 0.75 ? "warn" : "ok";
  return (
    <figure class="gauge" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={max} aria-valuenow={value ?? 0} aria-valuetext={text}>
      <svg viewBox="0 0 100 58" aria-hidden="true">
        <path d="M10 50 A40 40 0 0 1 90 50" class="gauge-track" />
        {share > 0 && <path d={`M10 50 A40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`} class={`gauge-fill ${tone}`} />}
      </svg>
      <figcaption><strong data-gauge={label}>{text}</strong><span>{label}</span></figcaption>
    </figure>
  );
}
