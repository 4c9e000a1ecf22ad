/**
 * JSON text made once per value that can no longer change. A store that keeps records as values (every change
 * stores a new object) freezes them with `FrozenJson.freeze`; answering with such a record, or a list of them,
 * then reuses its text instead of serializing it on every request. Anything not frozen here is serialized as usual.
 */
export namespace FrozenJson {
  /** The values frozen by `freeze`, all the way down: only these are safe to keep a text for. */
  const frozen = new WeakSet<object>()
  const texts = new WeakMap<object, string>()

  /** Freezes `value` and everything it holds, so its JSON text can be kept; answers `value`. */
  export function freeze<T>(value: T): T {
    if (typeof value !== "object" || value === null || frozen.has(value)) return value
    for (const key of Object.keys(value)) freeze((value as Record<string, unknown>)[key])
    Object.freeze(value)
    frozen.add(value)
    return value
  }

  /** `JSON.stringify(value)`, from the kept text when `value` (or a list's element) was frozen by `freeze`. */
  export function stringify(value: unknown): string | undefined {
    if (Array.isArray(value) && !frozen.has(value)) return `[${value.map(elementText).join(",")}]`
    return textOf(value)
  }

  // As JSON.stringify writes an array's elements: what has no JSON text (undefined, a function) is null.
  function elementText(value: unknown): string {
    return textOf(value) ?? "null"
  }

  function textOf(value: unknown): string | undefined {
    if (typeof value !== "object" || value === null || !frozen.has(value)) return JSON.stringify(value)
    let text = texts.get(value)
    if (text === undefined) {
      text = JSON.stringify(value)
      texts.set(value, text)
    }
    return text
  }
}
