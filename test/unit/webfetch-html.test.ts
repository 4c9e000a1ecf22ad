import { describe, expect, test } from "vitest"
import { Html } from "../../shared/html/convert.ts"

/** The HTML conversions of the webfetch tool (shared/html/): what a page becomes as Markdown and as text. */

const URL = "https://example.com/blog/post.html"
const md = (html: string, url = URL) => Html.markdown(html, url)

const PAGE = `<!doctype html>
<html>
<head>
  <title>The page title</title>
  <meta name="description" content="meta text">
  <link rel="stylesheet" href="/style.css">
  <style>body { color: red }</style>
  <script>if (a < b && c) document.write("<p>script text</p>")</script>
</head>
<body>
  <h1>Release <em>notes</em></h1>
  <p>The first paragraph, with <a href="/docs/install?x=1&amp;y=2">a relative link</a> and <strong>bold</strong> text.</p>
  <p>A second   paragraph
     over two lines &amp; an entity.</p>
  <h2>Changes</h2>
  <ul>
    <li>one</li>
    <li>two
      <ul><li>nested</li></ul>
    </li>
  </ul>
  <ol><li>first</li><li>second</li></ol>
  <pre><code class="language-ts">const a: number = 1 < 2 ? 1 : 2
  indented()</code></pre>
  <p>Inline <code>x*y</code> code.</p>
  <noscript>noscript text</noscript>
  <iframe src="https://ads.example/frame">iframe text</iframe>
  <svg><text>svg text</text><path d="M0 0"/></svg>
  <template><p>template text</p></template>
  <form><label>Name <input value="input text"></label><button>button text</button><select><option>option text</option></select></form>
  <!-- comment text -->
</body>
</html>`

const HIDDEN = ["The page title", "meta text", "color: red", "script text", "noscript text", "iframe text", "svg text", "template text", "input text", "button text", "option text", "comment text"]

describe("Html.markdown", () => {
  test("a page: headings, paragraphs, emphasis, links, lists, code blocks; what is not content is dropped", () => {
    const markdown = md(PAGE)
    expect(markdown).toBe(
      [
        "# Release *notes*",
        "The first paragraph, with [a relative link](https://example.com/docs/install?x=1&y=2) and **bold** text.",
        "A second paragraph over two lines & an entity.",
        "## Changes",
        "- one\n- two\n  - nested",
        "1. first\n2. second",
        "```ts\nconst a: number = 1 < 2 ? 1 : 2\n  indented()\n```",
        "Inline `x*y` code.",
        "Name",
      ].join("\n\n"),
    )
    for (const hidden of HIDDEN) expect(markdown).not.toContain(hidden)
  })

  test("end tags a page leaves out are implied, as browsers imply them", () => {
    expect(md("<p>one<p>two<ul><li>a<li>b</ul><div><p>open <b>bold <i>both")).toBe("one\n\ntwo\n\n- a\n- b\n\nopen **bold *both***")
  })

  test("links and images resolve against the page, or its first <base href> (itself relative to the page)", () => {
    expect(md('<p><a href="../up">up</a> <a href="#frag">frag</a> <img src="img/a b.png" alt="A [1]"> <a href="mailto:a@b.c">mail</a></p>', "https://example.com/a/b/page")).toBe(
      "[up](https://example.com/a/up) [frag](https://example.com/a/b/page#frag) ![A \\[1\\]](https://example.com/a/b/img/a%20b.png) [mail](mailto:a@b.c)",
    )
    const based = `<head><base href="/root/"><base href="/second/"></head><body><a href="x">x</a></body>`
    expect(md(based, "https://example.com/a/b/page")).toBe("[x](https://example.com/root/x)")
    expect(md('<a href="/a(b)">parens</a>', "https://example.com/")).toBe("[parens](https://example.com/a%28b%29)")
  })

  test("a link that leads nowhere a reader can go keeps its text; an image without one is dropped", () => {
    const html = '<base href="http://[broken"><p><a href="http://[bad">bad</a> <a href="javascript:void(0)">script</a> <a>bare</a> <img src="data:image/png;base64,AAAA" alt="inline"> <a href="ok">ok</a> <a href="/icon"> </a></p>'
    expect(md(html, "https://example.com/dir/")).toBe("bad script bare [ok](https://example.com/dir/ok)")
  })

  test("emphasis goes around the text, its edge spaces left outside", () => {
    expect(md("<p>a<b> bold </b>b <i></i><em>x</em>y <s>gone</s> <b>a<br>b</b></p>")).toBe("a **bold** b *x*y ~~gone~~ **a  \nb**")
  })

  test("text that Markdown would read as syntax is escaped; words with underscores are not", () => {
    expect(md("<p>a *star* _under_ snake_case [link] `tick` &lt;tag> &amp;amp; ~~x~~ \\</p>")).toBe(
      "a \\*star\\* \\_under\\_ snake_case \\[link\\] \\`tick\\` \\<tag> \\&amp; \\~\\~x\\~\\~ \\\\",
    )
    expect(md("<p>1. not a list</p><p>- not a bullet</p><p># not a heading</p><p>&gt; not a quote</p><p>---</p><p>#hashtag and 2024.</p>")).toBe(
      "1\\. not a list\n\n\\- not a bullet\n\n\\# not a heading\n\n\\> not a quote\n\n\\---\n\n#hashtag and 2024.",
    )
  })

  test("<br> is a line break (an empty line for two)", () => {
    expect(md("<p>line one<br>line two<br><br>after<br></p>")).toBe("line one  \nline two  \n\nafter")
  })

  test("lists: numbering from start, nested lists, items of several blocks, a list right inside a list", () => {
    expect(md('<ol start="3"><li>c</li><li>d<ol><li>d1</li></ol></li></ol>')).toBe("3. c\n4. d\n   1. d1")
    expect(md("<ul><li><p>para one</p><p>para two</p></li><li></li><li>x</li></ul>")).toBe("- para one\n\n  para two\n- x")
    expect(md("<ul><li>a</li><ul><li>a1</li></ul><li>b</li></ul>")).toBe("- a\n  - a1\n- b")
  })

  test("code: fenced with the language its class names, fences longer than any run of backticks inside", () => {
    expect(md('<pre class="lang-py">\nprint("```")\n\n</pre>')).toBe('````py\nprint("```")\n````')
    expect(md('<pre><code><span class="k">if</span> x:<br>    <b>y</b></code></pre>')).toBe("```\nif x:\n    y\n```")
    expect(md("<p>use <code>a`b</code>, <code>`x`</code> and <kbd>Ctrl  C</kbd></p>")).toBe("use ``a`b``, `` `x` `` and `Ctrl C`")
  })

  test("quotes, rules and definition lists", () => {
    expect(md("<blockquote><p>q1</p><p>q2</p><blockquote>inner</blockquote></blockquote><hr><dl><dt>term</dt><dd>def</dd></dl>")).toBe(
      "> q1\n>\n> q2\n>\n> > inner\n\n---\n\nterm\n\ndef",
    )
  })

  test("tables: GitHub's flavour, the first row the header, pipes escaped, the caption before", () => {
    const html = "<table><caption>Sizes</caption><thead><tr><th>Name</th><th>a|b</th></tr></thead><tbody><tr><td>a.txt</td></tr><tr><td>b</td><td>2</td><td>extra</td></tr></tbody></table>"
    expect(md(html)).toBe("Sizes\n\n| Name | a\\|b |  |\n| --- | --- | --- |\n| a.txt |\n| b | 2 | extra |")
  })

  test("a table that lays out the page (blocks in its cells) is read as its blocks", () => {
    expect(md("<table><tr><td><p>main text</p><ul><li>item</li></ul></td><td>side</td></tr></table>")).toBe("main text\n\n- item\n\nside")
  })

  test("an inline element around blocks is a container; a link around them is one link with their text", () => {
    expect(md("<my-app><div>one</div><div>two</div></my-app>")).toBe("one\n\ntwo")
    expect(md('<a href="/post"><div><h3>Title</h3><p>Summary</p></div></a>', "https://example.com/")).toBe("[Title Summary](https://example.com/post)")
    expect(md('<h2><a href="#x">Anchor</a> text</h2>', "https://example.com/p")).toBe("## [Anchor](https://example.com/p#x) text")
  })

  test("entities are decoded; a no-break space stays", () => {
    expect(md("<p>caf&eacute; &lt;b&gt; &#x1F600; &nbsp;x</p>")).toBe("café \\<b> 😀 \u00a0x")
  })

  test("a fragment, a cut-off page, plain text and an empty page convert without failing", () => {
    expect(md("<p>Hello <b>wor")).toBe("Hello **wor**")
    expect(md("<div><a href='/x'>cut her")).toBe("[cut her](https://example.com/x)")
    expect(md("just text")).toBe("just text")
    expect(md("")).toBe("")
  })
})

describe("Html.text", () => {
  test("the same blocks without the syntax: no markup, links as their text, images dropped", () => {
    const text = Html.text(PAGE)
    expect(text).toBe(
      [
        "Release notes",
        "The first paragraph, with a relative link and bold text.",
        "A second paragraph over two lines & an entity.",
        "Changes",
        "one\ntwo\nnested",
        "first\nsecond",
        "const a: number = 1 < 2 ? 1 : 2\n  indented()",
        "Inline x*y code.",
        "Name",
      ].join("\n\n"),
    )
    for (const hidden of HIDDEN) expect(text).not.toContain(hidden)
  })

  test("nothing is escaped; tables are tab-separated; <br> is a newline", () => {
    expect(Html.text('<p>1. *a* <a href="/x">b</a> <img src="i.png" alt="img"></p><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table><p>x<br>y</p>')).toBe(
      "1. *a* b\n\na\tb\nc\n\nx\ny",
    )
  })
})

describe("hostile pages stay bounded", () => {
  test("deep nesting is flattened past a depth, without exhausting the stack", () => {
    const depth = 100_000
    expect(md(`${"<div>".repeat(depth)}deep${"</div>".repeat(depth)}`)).toBe("deep")
    expect(md(`${"<blockquote>".repeat(5_000)}quoted`).replaceAll("> ", "").trim()).toBe("quoted")
  })

  test("many open elements (which the parser's stack handles in quadratic time) are cut off, their text kept", () => {
    const html = `${"<span>".repeat(300_000)}kept`
    expect(md(html)).toBe("kept")
  })

  test("Markdown cannot grow without bound: a long <base> for many links, deep quotes around many lines", () => {
    const links = `<base href="https://example.com/${"p".repeat(100_000)}/">${"<a href=x>y</a>".repeat(1_000)}`
    const markdown = md(links)
    expect(markdown.length).toBeLessThan(9 * 1024 * 1024)
    expect(markdown.startsWith("[y](https://example.com/ppp")).toBe(true)
    expect(markdown.endsWith("yyy")).toBe(true)
    const lines = `${"<blockquote>".repeat(150)}${"line<br>".repeat(100_000)}`
    expect(md(lines).length).toBeLessThan(9 * 1024 * 1024)
  })
})
