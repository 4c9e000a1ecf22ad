const ADJECTIVES = ["brave", "calm", "clever", "eager", "gentle", "happy", "keen", "lucky", "mighty", "quiet", "swift", "witty"]
const NOUNS = ["cabin", "canyon", "comet", "falcon", "harbor", "lagoon", "meadow", "orchid", "pebble", "river", "summit", "willow"]

function pick(words: string[], random: number): string {
  return words[random % words.length]!
}

/** A short human-friendly name for a session, as upstream's `slug`. */
export function createSlug(): string {
  const [a = 0, b = 0] = crypto.getRandomValues(new Uint16Array(2))
  return `${pick(ADJECTIVES, a)}-${pick(NOUNS, b)}`
}
