import { describe, expect, test } from "vitest"
import { ToolPermission } from "../../shared/domain/tool-permission.ts"

describe("permission patterns (upstream's wildcards)", () => {
  test.each([
    ["git push origin main", "git push *", true],
    ["git pull", "git push *", false],
    ["rm -rf build", "rm *", true],
    ["rm", "rm *", true],
    ["src/a.env", "*.env", true],
    [".env", "*.env", true],
    ["x.env.example", "*.env.*", true],
    ["abc", "a?c", true],
    ["ac", "a?c", false],
    ["", "*", true],
    ["", "", true],
    ["x", "", false],
    ["a.b", "a.b", true],
    ["axb", "a.b", false],
    ["line1\nline2", "line1*", true],
    ["abcabd", "*abd", true],
    ["aaaa", "*a*a*a*a*a", false],
    ["rm *.log", "rm *", true],
    ["a*b", "a*b", true],
    ["a*b", "a\\*b", false],
    ["git", "git *", true],
    ["gitx", "git *", false],
  ])("%j against %j: %s", (value, pattern, expected) => {
    expect(ToolPermission.matches(value, pattern)).toBe(expected)
  })

  test("a pattern of many stars against a long value answers (no catastrophic backtracking)", () => {
    expect(ToolPermission.matches("a".repeat(100_000), "*a*a*a*a*a*a*a*a*b")).toBe(false)
  })

  test("the last matching rule decides; permission names match as patterns too", () => {
    const rules = [
      { permission: "*", pattern: "*", action: "allow" as const },
      { permission: "bash", pattern: "git push *", action: "ask" as const },
      { permission: "bash", pattern: "git push --force*", action: "deny" as const },
    ]
    expect(ToolPermission.evaluate(rules, "bash", "git status")).toBe("allow")
    expect(ToolPermission.evaluate(rules, "bash", "git push origin")).toBe("ask")
    expect(ToolPermission.evaluate(rules, "bash", "git push --force origin")).toBe("deny")
    expect(ToolPermission.evaluate([], "edit", "a.ts")).toBe("ask")
  })
})
