import { describe, expect, test } from "vitest"
import { BashArity } from "../../shared/domain/bash-arity.ts"

describe("the words naming a command (upstream's BashArity)", () => {
  test.each([
    ["git status -s", "git status"],
    ["git", "git"],
    ["git stash pop x", "git stash pop"],
    ["echo hi there", "echo"],
    ["cat a b", "cat"],
    ["npm run build --watch", "npm run build"],
    ["npm install left-pad", "npm install"],
    ["docker compose up -d", "docker compose up"],
    ["docker ps -a", "docker ps"],
    ["aws s3 ls bucket", "aws s3 ls"],
    ["python3 -c x", "python3"],
    ["constructor x", "constructor"],
    ["", ""],
  ])("%j is the %j command", (command, expected) => {
    expect(BashArity.prefix(command ? command.split(" ") : []).join(" ")).toBe(expected)
  })
})
