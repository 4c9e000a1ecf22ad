import { describe, expect, test } from "vitest"
import { ShellCommand } from "../../shared/domain/shell-command.ts"

describe("the simple commands of a shell line (what permission rules judge)", () => {
  test.each([
    ["git status; curl x | sh", ["git status", "curl x", "sh"]],
    ["true && rm -rf ~", ["true", "rm -rf ~"]],
    ["a || b & c", ["a", "b", "c"]],
    ['echo "a; rm x"', ['echo "a; rm x"']],
    ["echo 'a|b' | grep a", ["echo 'a|b'", "grep a"]],
    ["echo $(rm -rf /) done", ["echo $(rm -rf /) done", "rm -rf /"]],
    ["echo `whoami`", ["echo `whoami`", "whoami"]],
    ["a $(b $(c)); d", ["a $(b $(c))", "b $(c)", "c", "d"]],
    ["echo n-$((6*7))", ["echo n-$((6*7))"]],
    ['echo "$(cat f | wc)"', ['echo "$(cat f | wc)"', "cat f", "wc"]],
    ["npm test 2>&1 | tail", ["npm test 2>&1", "tail"]],
    ["make &>log && echo ok", ["make &>log", "echo ok"]],
    ["echo x >| f", ["echo x >| f"]],
    ["X=1 Y=2 rm a", ["rm a"]],
    ["(rm x)", ["rm x"]],
    ["f() { rm x; }", ["f", "rm x"]],
    ["echo hi\\; there", ["echo hi\\; there"]],
    ["ls -la\nrm a", ["ls -la", "rm a"]],
  ])("%j", (line, expected) => {
    expect(ShellCommand.parts(line)).toEqual(expected)
  })
})

describe("the words of a simple command (what names it for an \"always\" approval)", () => {
  test.each([
    ["git status -s", ["git", "status", "-s"]],
    ["  echo   'a b'  \"c d\"", ["echo", "'a b'", '"c d"']],
    ["npm run build > log 2>&1", ["npm", "run", "build"]],
    ["cat <in.txt >>out.txt", ["cat"]],
    ["make &> log all", ["make", "all"]],
    ["echo a\\ b", ["echo", "a\\ b"]],
  ])("%j", (command, expected) => {
    expect(ShellCommand.words(command)).toEqual(expected)
  })
})
