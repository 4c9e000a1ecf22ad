/** Text and attribute escaping and the number and time formats of the share page. */

const SPECIAL = /[&<>"']/
const SPECIAL_ALL = /[&<>"']/g
const ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** Safe as element text and inside a quoted attribute value. Most text has nothing to escape: it is returned as is. */
export function escapeHtml(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (char) => ENTITY[char]!) : text
}

/** `<time>` for an epoch-milliseconds instant, in UTC (the page's script shows it in the reader's time zone). */
export function timeElement(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ""
  const date = new Date(ms)
  if (Number.isNaN(date.getTime())) return ""
  const iso = date.toISOString()
  return `<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`
}

/** 1234567 → "1,234,567". */
export function formatCount(count: number): string {
  if (!Number.isFinite(count)) return "0"
  return String(Math.round(count)).replace(/\B(?=(\d{3})+(?!\d))/g, ",")
}

/** Dollars; sub-cent amounts keep four decimals so a cheap session does not read as free. */
export function formatCost(cost: number): string {
  if (!Number.isFinite(cost) || cost <= 0) return "$0.00"
  return `$${cost.toFixed(cost < 0.01 ? 4 : 2)}`
}
