import type { LanguageModelUsage } from "ai"
import type { Model } from "../schema/config.ts"
import type { AssistantMessage } from "../schema/message.ts"

/** An assistant message's token counts (`total` optional). */
export type Tokens = AssistantMessage["tokens"]

export const NO_TOKENS: Tokens = { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } }

/** A step's usage in upstream's terms: `input` without the cached part, `output` without reasoning. */
export function tokensOf(usage: LanguageModelUsage | undefined): Tokens {
  if (!usage) return NO_TOKENS
  const read = usage.inputTokenDetails?.cacheReadTokens ?? usage.cachedInputTokens ?? 0
  const write = usage.inputTokenDetails?.cacheWriteTokens ?? 0
  const reasoning = usage.outputTokenDetails?.reasoningTokens ?? usage.reasoningTokens ?? 0
  const input = usage.inputTokenDetails?.noCacheTokens ?? Math.max(0, (usage.inputTokens ?? 0) - read - write)
  const output = Math.max(0, (usage.outputTokens ?? 0) - reasoning)
  return { total: usage.totalTokens ?? input + read + write + output + reasoning, input, output, reasoning, cache: { read, write } }
}

/** Dollars, from the model's prices per million tokens (reasoning is billed as output). */
export function costOf(tokens: Tokens, model: Model): number {
  const { cost } = model
  return (
    (tokens.input * cost.input + (tokens.output + tokens.reasoning) * cost.output + tokens.cache.read * cost.cache.read + tokens.cache.write * cost.cache.write) /
    1_000_000
  )
}

export function addTokens(a: Tokens, b: Tokens): Tokens {
  return {
    total: (a.total ?? 0) + (b.total ?? 0),
    input: a.input + b.input,
    output: a.output + b.output,
    reasoning: a.reasoning + b.reasoning,
    cache: { read: a.cache.read + b.cache.read, write: a.cache.write + b.cache.write },
  }
}
