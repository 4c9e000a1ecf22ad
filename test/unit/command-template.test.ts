import { describe, expect, test } from "vitest"
import { CommandTemplate } from "../../shared/domain/command-template.ts"

/** Template filling as upstream 1.18 does it (outputs checked against `opencode serve`'s user messages). */
describe("CommandTemplate", () => {
  test("the highest-numbered placeholder takes the rest of the arguments; $ARGUMENTS is the whole text", () => {
    expect(CommandTemplate.fill("Say hi to $1 about $2. All: $ARGUMENTS.", "Bob the weather and more")).toBe(
      "Say hi to Bob about the weather and more. All: Bob the weather and more.",
    )
    expect(CommandTemplate.fill("With $ARGUMENTS and $1", "alpha beta")).toBe("With alpha beta and alpha beta")
  })

  test("quoted arguments are one argument without their quotes; missing ones are empty", () => {
    expect(CommandTemplate.fill("[$1] [$2] [$3]", `"two words" 'x y'`)).toBe("[two words] [x y] []")
  })

  test("a template with no placeholder gets the arguments after a blank line; $-patterns in arguments stay literal", () => {
    expect(CommandTemplate.fill("Run the checks", "fast ones")).toBe("Run the checks\n\nfast ones")
    expect(CommandTemplate.fill("Run the checks", "  ")).toBe("Run the checks")
    expect(CommandTemplate.fill("Echo $ARGUMENTS", "$& and $1")).toBe("Echo $& and $1")
  })

  test("!`cmd` substitutions are found and replaced in order", () => {
    const text = "a !`echo 1` b !`date -u` c"
    expect(CommandTemplate.shellCommands(text)).toEqual(["echo 1", "date -u"])
    expect(CommandTemplate.withShellOutputs(text, ["1\n", "today"])).toBe("a 1\n b today c")
  })

  test("@references: paths with dots, not e-mail addresses or code, a trailing period left out, each once", () => {
    expect(CommandTemplate.fileReferences("See @a.txt. and @src/app.ts, @docs/ then `@skip` mail@example.com @a.txt")).toEqual(["a.txt", "src/app.ts", "docs/"])
  })
})
