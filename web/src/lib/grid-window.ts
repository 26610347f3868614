/*
 * Which cards of a long grid are near the viewport. Every card has the same height, so the
 * rows in view follow from the scroll position alone: 1,000 agents cost what the ~30 cards
 * on screen cost, and no card's layout is ever read.
 */
export interface GridGeometry {
  /** Width of the grid's box, px. */
  width: number;
  /** Narrowest a column may be, px (as CSS `minmax(minColumn, 1fr)` with auto-fill). */
  minColumn: number;
  gap: number;
  rowHeight: number;
}

export interface GridWindow {
  columns: number;
  /** Index of the first item in the DOM, and one past the last. */
  first: number;
  end: number;
  /** Space above the first row in the DOM, and the whole grid's height, px. */
  padTop: number;
  height: number;
}

/** As many columns as CSS auto-fill would make, at least one. */
export function columnsFor(width: number, minColumn: number, gap: number): number {
  return Math.max(1, Math.floor((width + gap) / (minColumn + gap)));
}

/**
 * The items of the rows between `viewTop` and `viewBottom` (px from the grid's top), plus
 * `overscanRows` rows either side, so a card is in the DOM before it scrolls into view.
 * `focusIndex` (the item holding keyboard focus), when near the window, widens it to the
 * rows either side of that item's: Tab and Shift+Tab always find the next card in the DOM.
 */
export function gridWindow(count: number, g: GridGeometry, viewTop: number, viewBottom: number, overscanRows: number, focusIndex = -1): GridWindow {
  const columns = columnsFor(g.width, g.minColumn, g.gap);
  const rows = Math.ceil(count / columns);
  const pitch = g.rowHeight + g.gap;
  // Scrolled past the end (the list just got shorter, before the page's scroll is clamped):
  // the last screenful, never an empty window.
  const screenRows = Math.ceil(Math.max(0, viewBottom - viewTop) / pitch);
  let firstRow = Math.max(0, Math.min(rows - screenRows - overscanRows, Math.floor(viewTop / pitch) - overscanRows));
  let endRow = Math.max(firstRow, Math.min(rows, Math.ceil(viewBottom / pitch) + overscanRows));
  const focusRow = focusIndex >= 0 && focusIndex < count ? Math.floor(focusIndex / columns) : -1;
  if (focusRow >= firstRow - overscanRows && focusRow < endRow + overscanRows && focusRow >= 0) {
    firstRow = Math.max(0, Math.min(firstRow, focusRow - 1));
    endRow = Math.min(rows, Math.max(endRow, focusRow + 2));
  }
  return {
    columns, first: firstRow * columns, end: Math.min(count, endRow * columns),
    padTop: firstRow * pitch, height: rows === 0 ? 0 : rows * pitch - g.gap,
  };
}

export function sameWindow(a: GridWindow, b: GridWindow): boolean {
  return a.columns === b.columns && a.first === b.first && a.end === b.end && a.padTop === b.padTop && a.height === b.height;
}
