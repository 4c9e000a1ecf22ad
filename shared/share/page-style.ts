/**
 * The share page's only stylesheet, inline (allowed by its hash in the CSP). Constant text: the hash is computed
 * once per isolate. System fonts only, no remote resources; light and dark follow the reader's preference.
 */
export const PAGE_STYLE = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1f;--muted:#6b6b76;--line:#e4e4e9;--panel:#f6f6f8;--user:#eef3ff;--accent:#2f5bd3;--error:#b3261e;--error-bg:#fdeceb}
@media (prefers-color-scheme:dark){:root{--bg:#141417;--fg:#e6e6ea;--muted:#9a9aa6;--line:#2c2c33;--panel:#1c1c21;--user:#1b2334;--accent:#8ab0ff;--error:#ff8a80;--error-bg:#2d1715}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:52rem;margin:0 auto;padding:1rem}
a{color:var(--accent)}
pre,code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:.6rem .75rem;overflow-x:auto;white-space:pre;margin:.5rem 0}
:not(pre)>code{background:var(--panel);border-radius:4px;padding:.05rem .3rem}
#share-header{border-bottom:1px solid var(--line);padding-bottom:.75rem;margin-bottom:1rem}
#share-header h1{font-size:1.35rem;line-height:1.3;margin:.25rem 0 .4rem;overflow-wrap:anywhere}
.brand,.models,.stats,.meta{color:var(--muted);font-size:.85rem;margin:.2rem 0}
.stats span+span::before,.meta span+span::before{content:" · "}
.busy{color:var(--accent);font-size:.85rem;margin:.3rem 0 0}
.message{margin:0 0 1rem;overflow-wrap:anywhere}
.message.user{background:var(--user);border-radius:8px;padding:.6rem .8rem}
.role{font-size:.75rem;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:var(--muted);margin-bottom:.2rem}
.user-text{white-space:pre-wrap;margin:.25rem 0}
.error pre{white-space:pre-wrap;overflow-wrap:anywhere}
.markdown>:first-child{margin-top:0}
.markdown>:last-child{margin-bottom:0}
.markdown h1,.markdown h2,.markdown h3{line-height:1.3;margin:1rem 0 .5rem}
.markdown h1{font-size:1.3rem}.markdown h2{font-size:1.15rem}.markdown h3{font-size:1rem}
.markdown blockquote{margin:.5rem 0;padding-left:.75rem;border-left:3px solid var(--line);color:var(--muted)}
.markdown table{border-collapse:collapse;display:block;overflow-x:auto}
.markdown th,.markdown td{border:1px solid var(--line);padding:.25rem .5rem}
.align-left{text-align:left}.align-center{text-align:center}.align-right{text-align:right}
details{border:1px solid var(--line);border-radius:6px;margin:.4rem 0;padding:0 .6rem}
details[open]{padding-bottom:.4rem}
summary{cursor:pointer;padding:.35rem 0;color:var(--muted);overflow-wrap:anywhere}
summary .name{color:var(--fg);font-weight:600}
.label{font-size:.75rem;color:var(--muted);margin-top:.4rem}
.error{border-color:var(--error);background:var(--error-bg)}
.error summary,.error .name{color:var(--error)}
.status{font-size:.75rem}
.file,.agent,.subtask-line,.note{color:var(--muted);font-size:.9rem;margin:.25rem 0}
#conversation:empty::before{content:"No messages yet.";color:var(--muted)}
.notice{padding:1rem;border:1px solid var(--line);border-radius:8px;text-align:center}
@media (max-width:600px){main{padding:.6rem}body{font-size:14px}}
`
