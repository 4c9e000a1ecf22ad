import { describe, expect, test } from "vitest"
import { ConfigFiles } from "../../shared/config/files.ts"
import { parseJsonc } from "../../shared/config/jsonc.ts"
import { parseMarkdown } from "../../shared/config/markdown.ts"
import { ConfigMerge } from "../../shared/config/merge.ts"
import { substitute } from "../../local-agent/machine/config-substitute.ts"

const thrown = (run: () => unknown) => {
  try {
    run()
  } catch (error) {
    return error as { name: string; data: Record<string, unknown> }
  }
  throw new Error("nothing was thrown")
}

describe("config files: parsing, frontmatter, merging", () => {
  test("JSONC: comments and trailing commas pass; every syntax error is reported with line:column", () => {
    expect(parseJsonc("/a.json", '// c\n{ "a": [1, 2,], /* b */ "b": {},\n}')).toEqual({ a: [1, 2], b: {} })
    const error = thrown(() => parseJsonc("/a.json", '{\n  "a" 1,\n  "b": }'))
    expect(error.name).toBe("ConfigJsonError")
    expect(error.data).toEqual({ path: "/a.json", message: "/a.json: ColonExpected at 2:7; ValueExpected at 3:8" })
  })

  test("frontmatter: options and trimmed body; none, empty, CRLF; a scalar is refused", () => {
    expect(parseMarkdown("/x.md", "---\nmode: primary\ntools:\n  bash: false\n---\n\nBody\n")).toEqual({
      options: { mode: "primary", tools: { bash: false } },
      body: "Body",
    })
    expect(parseMarkdown("/x.md", "\n just text \n")).toEqual({ options: {}, body: "just text" })
    expect(parseMarkdown("/x.md", "---\n---\nBody")).toEqual({ options: {}, body: "Body" })
    expect(parseMarkdown("/x.md", "---\r\na: 1\r\n---\r\nBody\r\n")).toEqual({ options: { a: 1 }, body: "Body" })
    expect(thrown(() => parseMarkdown("/x.md", "---\njust a string\n---\nBody")).name).toBe("ConfigInvalidError")
    const broken = thrown(() => parseMarkdown("/x.md", "---\na: 1\nb: [2\n---\nBody"))
    expect(broken.name).toBe("ConfigFrontmatterError")
    expect(broken.data.message).toMatch(/^\/x\.md: .+ at \d+:\d+$/)
  })

  test("layers: objects merge key by key, later wins, instructions add up once each", () => {
    const merged = ConfigMerge.layer(
      { theme: "a", agent: { x: { description: "x", mode: "primary" } }, instructions: ["one.md", "two.md"] },
      { theme: "b", agent: { x: { mode: "subagent" } }, instructions: ["two.md", "three.md"] },
    )
    expect(merged).toEqual({
      theme: "b",
      agent: { x: { description: "x", mode: "subagent" } },
      instructions: ["one.md", "two.md", "three.md"],
    })
    // PATCH's own merge: arrays replace
    expect(ConfigMerge.deep({ instructions: ["a"] }, { instructions: ["b"] })).toEqual({ instructions: ["b"] })
  })

  test("a markdown source becomes its agent or command; a schema violation names the field", () => {
    const sources = [
      { path: "/g.json", kind: "json" as const, text: '{"agent": {"r": {"temperature": 1}}}' },
      { path: "/r.md", kind: "agent" as const, name: "r", text: "---\nmode: subagent\n---\nReview." },
      { path: "/d.md", kind: "command" as const, name: "d", text: "Deploy $1" },
    ]
    expect(ConfigFiles.merge(sources)).toEqual({
      agent: { r: { temperature: 1, mode: "subagent", prompt: "Review." } },
      command: { d: { template: "Deploy $1" } },
    })
    const invalid = thrown(() => ConfigFiles.merge([{ path: "/c.md", kind: "command", name: "c", text: "---\nsubtask: maybe\n---\nx" }]))
    expect(invalid.name).toBe("ConfigInvalidError")
    expect(invalid.data.issues).toEqual([{ path: ["command", "c", "subtask"], message: expect.any(String) }])
  })

  test("a cached parse is handed out as a copy: a caller's change does not reach the next caller", () => {
    const source = { path: "/same.json", kind: "json" as const, text: '{"agent": {"a": {"prompt": "p"}}}' }
    const first = ConfigFiles.layer(source)
    ;(first.agent!.a as Record<string, unknown>).prompt = "changed"
    expect(ConfigFiles.layer(source).agent!.a).toEqual({ prompt: "p" })
  })

  test("substitutions: {env:} and {file:} as JSON string text, // lines left alone, a missing file named", async () => {
    const context = {
      path: "/cfg/opencode.json",
      base: "/cfg",
      env: { QUOTED: 'a"b' },
      home: "/cfg",
      readText: async (path: string) => (path === "/cfg/prompt.txt" ? '  line "one"\nline\\two\n' : undefined),
    }
    const text = '{\n  "a": "{env:QUOTED}{env:UNSET}",\n  // "b": "{file:gone.txt}"\n  "c": "{file:./prompt.txt}",\n  "d": "{file:~/prompt.txt}"\n}'
    expect(JSON.parse((await substitute(text, context)).replace(/^\s*\/\/.*$/m, ""))).toEqual({
      a: 'a"b',
      c: 'line "one"\nline\\two',
      d: 'line "one"\nline\\two',
    })
    await expect(substitute('{"b": "{file:gone.txt}"}', context)).rejects.toMatchObject({
      name: "ConfigInvalidError",
      data: { path: "/cfg/opencode.json", message: expect.stringContaining("/cfg/gone.txt") },
    })
  })
})
