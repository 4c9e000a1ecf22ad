import { describe, expect, test } from "vitest"
import { ShellCommand } from "../../shared/domain/shell-command.ts"

describe("the simple commands of a shell line (what permission rules judge)", () => {
  test.each([
    ["git status; curl x | sh", ["git status", "curl x", "sh"]],
    ["true && rm -rf ~", ["true", "rm -rf ~"]],
    ["a || b & c", ["a", "b", "c"]],
    ['echo "a; rm x"', ['echo "a; rm x"']],
    ["echo 'a|b' | grep a", ["echo 'a|b'", "grep a"]],
    ["echo $(rm -rf /) done", ["rm -rf /", "echo $(rm -rf /) done"]],
    ["echo `whoami`", ["whoami", "echo `whoami`"]],
    ["echo n-$((6*7))", ["echo n-$((6*7))"]],
    ['echo "$(cat f | wc)"', ["cat f", "wc", 'echo "$(cat f | wc)"']],
    ["X=1 Y=2 rm a", ["rm a"]],
    ["(rm x)", ["rm x"]],
    ["f() { rm x; }", ["f", "rm x"]],
    ["echo hi\\; there", ["echo hi\\; there"]],
    ["ls -la\nrm a", ["ls -la", "rm a"]],
  ])("%j", (line, expected) => {
    expect(ShellCommand.parts(line)).toEqual(expected)
  })
})
