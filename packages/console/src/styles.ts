import { font, monoFont, type Palette, palette, radius } from '@plugboard/tokens';

const vars = (p: Palette) =>
  Object.entries(p)
    .map(([k, v]) => `--pb-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${v};`)
    .join(' ');

/** The console's stylesheet, built from the shared tokens (the hub uses the same values). */
export const css = `
:root { ${vars(palette.light)} --pb-radius: ${radius}; --pb-font: ${font}; --pb-mono: ${monoFont}; color-scheme: light; }
@media (prefers-color-scheme: dark) { :root:not([data-theme="light"]) { ${vars(palette.dark)} color-scheme: dark; } }
:root[data-theme="dark"] { ${vars(palette.dark)} color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; font-family: var(--pb-font); background: var(--pb-surface); color: var(--pb-fg); line-height: 1.45; }
a { color: var(--pb-accent); }
:focus-visible { outline: 3px solid var(--pb-accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 8px; background: var(--pb-bg); padding: 8px 12px; z-index: 10; }
.skip:focus { left: 8px; }
header.top { display: flex; align-items: center; gap: 12px; padding: 10px 16px; background: var(--pb-bg); border-bottom: 1px solid var(--pb-border); flex-wrap: wrap; }
header.top .brand { font-weight: 700; font-size: 1.05rem; margin-right: auto; color: var(--pb-fg); text-decoration: none; }
header.top select { width: auto; }
.shell { display: grid; grid-template-columns: 220px 1fr; min-height: calc(100vh - 56px); }
nav.side { background: var(--pb-bg); border-right: 1px solid var(--pb-border); padding: 12px 8px; }
nav.side ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 2px; }
nav.side a { display: block; padding: 8px 12px; border-radius: 6px; color: var(--pb-fg); text-decoration: none; }
nav.side a[aria-current="page"] { background: var(--pb-surface); font-weight: 600; box-shadow: inset 3px 0 0 var(--pb-accent); }
nav.side a:hover { background: var(--pb-surface); }
main { padding: 20px 24px; max-width: 1200px; width: 100%; }
main h1 { font-size: 1.4rem; margin: 0 0 4px; }
main h1:focus { outline: none; }
main h2 { font-size: 1.1rem; margin: 24px 0 8px; }
.lead { color: var(--pb-muted); margin: 0 0 16px; }
@media (max-width: 760px) {
  .shell { grid-template-columns: 1fr; }
  nav.side { border-right: 0; border-bottom: 1px solid var(--pb-border); }
  nav.side ul { display: flex; flex-wrap: wrap; }
  main { padding: 16px 12px; }
}
.card { background: var(--pb-bg); border: 1px solid var(--pb-border); border-radius: var(--pb-radius); padding: 16px; margin-bottom: 16px; }
label { display: block; font-weight: 600; margin-bottom: 4px; }
input, select, textarea { font: inherit; color: var(--pb-fg); background: var(--pb-bg); border: 1px solid var(--pb-border);
  border-radius: 6px; padding: 7px 10px; width: 100%; }
input[type="checkbox"] { width: auto; }
.field { margin-bottom: 12px; }
.hint { color: var(--pb-muted); font-size: 0.85rem; margin: 2px 0 0; }
.row { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-end; }
.row > .field { flex: 1 1 180px; }
button { font: inherit; border-radius: 6px; cursor: pointer; padding: 7px 14px; border: 1px solid var(--pb-border);
  background: var(--pb-bg); color: var(--pb-fg); }
button.primary { background: var(--pb-accent); color: var(--pb-accent-fg); border-color: var(--pb-accent); font-weight: 600; }
button.danger { color: var(--pb-error); border-color: var(--pb-error); }
button.link { border: 0; background: none; color: var(--pb-accent); padding: 0; text-decoration: underline; }
button[disabled] { opacity: 0.6; cursor: not-allowed; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
table { width: 100%; border-collapse: collapse; background: var(--pb-bg); border: 1px solid var(--pb-border); border-radius: var(--pb-radius); }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--pb-border); vertical-align: top; }
th { font-size: 0.85rem; color: var(--pb-muted); font-weight: 600; }
.table-wrap { overflow-x: auto; margin-bottom: 16px; }
code, .mono { font-family: var(--pb-mono); font-size: 0.85rem; word-break: break-all; }
pre { font-family: var(--pb-mono); font-size: 0.8rem; white-space: pre-wrap; word-break: break-word; background: var(--pb-surface);
  border: 1px solid var(--pb-border); border-radius: 6px; padding: 8px; max-height: 300px; overflow: auto; margin: 4px 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.8rem; border: 1px solid var(--pb-border); white-space: nowrap; }
.badge.ok { color: var(--pb-success); border-color: var(--pb-success); }
.badge.bad { color: var(--pb-error); border-color: var(--pb-error); }
.badge.warn { color: var(--pb-warning); border-color: var(--pb-warning); }
.error { border-left: 4px solid var(--pb-error); padding: 10px 12px; background: var(--pb-bg); border-radius: 6px; margin: 8px 0 16px; }
.notice { border-left: 4px solid var(--pb-accent); padding: 10px 12px; background: var(--pb-bg); border-radius: 6px; margin: 8px 0 16px; }
.secret { display: flex; gap: 8px; align-items: center; }
.secret code { flex: 1; padding: 6px 8px; background: var(--pb-surface); border: 1px solid var(--pb-border); border-radius: 6px; }
.empty { text-align: center; padding: 28px 16px; color: var(--pb-muted); background: var(--pb-bg); border: 1px dashed var(--pb-border); border-radius: var(--pb-radius); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px; margin: 12px 0; }
.tile { display: flex; gap: 10px; align-items: center; text-align: left; width: 100%; background: var(--pb-bg); padding: 12px; border-radius: var(--pb-radius); }
.tile img { width: 32px; height: 32px; border-radius: 6px; background: #fff; flex: none; }
.tile small { display: block; color: var(--pb-muted); }
.tile[aria-pressed="true"] { border-color: var(--pb-accent); box-shadow: 0 0 0 1px var(--pb-accent); }
.signin { max-width: 380px; margin: 10vh auto; }
.signin h1 { margin-bottom: 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: var(--pb-muted); }
dl.facts dd { margin: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
