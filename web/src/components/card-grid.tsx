import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { gridWindow, sameWindow, type GridWindow } from "../lib/grid-window.ts";

interface CardGridProps<T> {
  items: readonly T[];
  label: string;
  busy: boolean;
  rowHeight: number;
  minColumn: number;
  gap: number;
  /** One `<li>` per item; `index` is its place in `items` (for aria-posinset). */
  render: (item: T, index: number) => ComponentChildren;
  /** The items now in the DOM, after every change of them. */
  onWindow?: (items: readonly T[]) => void;
}

/** Rows beyond the viewport kept in the DOM on each side. */
const OVERSCAN_ROWS = 2;
/** Up to this many cards all stay in the DOM: cheap, and a full-page screenshot shows them all. */
const ALL_UP_TO = 60;

/**
 * A `<ul>` grid of equal-height cards that holds only the rows near the viewport; the rest
 * is empty space of the right height, so the page scrolls as if every card were there.
 */
export function CardGrid<T>({ items, label, busy, rowHeight, minColumn, gap, render, onWindow }: CardGridProps<T>) {
  const list = useRef<HTMLUListElement>(null);
  const [win, setWin] = useState<GridWindow>({ columns: 1, first: 0, end: 0, padTop: 0, height: 0 });
  const count = items.length;
  /** Index of the item holding keyboard focus, or -1. */
  const focused = useRef(-1);
  const measure = useRef(() => {});
  measure.current = () => {
    const el = list.current;
    if (!el) return;
    const box = el.getBoundingClientRect();
    const geometry = { width: box.width, minColumn, gap, rowHeight };
    const next = count <= ALL_UP_TO ? gridWindow(count, geometry, 0, Infinity, 0) : gridWindow(count, geometry, -box.top, innerHeight - box.top, OVERSCAN_ROWS, focused.current);
    setWin((prev) => (sameWindow(prev, next) ? prev : next));
  };

  useLayoutEffect(() => measure.current(), [count]);
  useEffect(() => {
    let frame = 0;
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(() => {
        frame = 0;
        measure.current();
      });
    };
    // Capture: a scroll of any box around the grid moves it too.
    addEventListener("scroll", schedule, { capture: true, passive: true });
    addEventListener("resize", schedule);
    const resized = new ResizeObserver(schedule);
    if (list.current) resized.observe(list.current);
    return () => {
      removeEventListener("scroll", schedule, { capture: true });
      removeEventListener("resize", schedule);
      resized.disconnect();
      cancelAnimationFrame(frame);
    };
  }, []);

  const end = Math.min(win.end, count);
  const shown = items.slice(win.first, end);
  // Before paint, so what the cards need is asked for at once; not before the first
  // measurement: an empty window of a non-empty list is no news.
  useLayoutEffect(() => {
    if (shown.length || !count) onWindow?.(shown);
  });

  // Focus moving to a card widens the window around it before the next key press.
  const onFocusIn = (e: FocusEvent) => {
    const item = (e.target as Element).closest("ul.cards > li");
    focused.current = item ? Array.prototype.indexOf.call(list.current!.children, item) + win.first : -1;
    measure.current();
  };
  const onFocusOut = () => {
    focused.current = -1;
  };

  return (
    <ul ref={list} class="cards" aria-label={label} aria-busy={busy} data-count={count} onFocusIn={onFocusIn} onFocusOut={onFocusOut}
      style={{ height: `${win.height}px`, paddingTop: `${win.padTop}px`, gap: `${gap}px`, gridAutoRows: `${rowHeight}px`, gridTemplateColumns: `repeat(${win.columns}, minmax(0, 1fr))` }}>
      {shown.map((item, k) => render(item, win.first + k))}
    </ul>
  );
}
