import { font, palette, radius } from '@plugboard/tokens';

/**
 * Styles live inside the Shadow DOM, so the host page cannot break them; embedders theme the element
 * through the custom properties below (they inherit through the shadow boundary).
 */
export const styles = `
:host {
  --pb-accent: var(--plugboard-accent, ${palette.light.accent});
  --pb-accent-fg: var(--plugboard-accent-fg, ${palette.light.accentFg});
  --pb-bg: var(--plugboard-bg, ${palette.light.bg});
  --pb-fg: var(--plugboard-fg, ${palette.light.fg});
  --pb-muted: var(--plugboard-muted, ${palette.light.muted});
  --pb-border: var(--plugboard-border, ${palette.light.border});
  --pb-surface: var(--plugboard-surface, ${palette.light.surface});
  --pb-error: var(--plugboard-error, ${palette.light.error});
  --pb-radius: var(--plugboard-radius, ${radius});
  --pb-font: var(--plugboard-font, ${font});
  display: block;
  color-scheme: light;
}
:host([data-theme="dark"]) {
  --pb-accent: var(--plugboard-accent, ${palette.dark.accent});
  --pb-accent-fg: var(--plugboard-accent-fg, ${palette.dark.accentFg});
  --pb-bg: var(--plugboard-bg, ${palette.dark.bg});
  --pb-fg: var(--plugboard-fg, ${palette.dark.fg});
  --pb-muted: var(--plugboard-muted, ${palette.dark.muted});
  --pb-border: var(--plugboard-border, ${palette.dark.border});
  --pb-surface: var(--plugboard-surface, ${palette.dark.surface});
  --pb-error: var(--plugboard-error, ${palette.dark.error});
  color-scheme: dark;
}
.hub { font-family: var(--pb-font); background: var(--pb-bg); color: var(--pb-fg); border-radius: var(--pb-radius);
  padding: 24px; max-width: 480px; margin: 0 auto; box-sizing: border-box; line-height: 1.45; }
h1 { font-size: 1.25rem; margin: 0 0 16px; outline: none; display: flex; align-items: center; gap: 10px; }
h1 img { width: 32px; height: 32px; border-radius: 6px; }
/* The search box keeps room for its placeholder in every language; the category filter wraps below it
   on narrow screens instead of squeezing it. */
.tools { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 12px; }
.tools input { flex: 1 1 15rem; min-width: 0; }
.tools select { flex: 1 1 auto; width: auto; max-width: 100%; }
@media (max-width: 420px) { .hub { padding: 16px; } }
input, select, textarea { font: inherit; color: var(--pb-fg); background: var(--pb-bg); border: 1px solid var(--pb-border);
  border-radius: calc(var(--pb-radius) * 0.6); padding: 8px 10px; width: 100%; box-sizing: border-box; }
input[readonly] { background: var(--pb-surface); }
:focus-visible { outline: 3px solid var(--pb-accent); outline-offset: 2px; }
h1:focus-visible { outline: none; }
ul.providers { list-style: none; padding: 0; margin: 0; display: grid; gap: 8px; max-height: 420px; overflow: auto; }
ul.providers button { display: flex; align-items: center; gap: 12px; width: 100%; text-align: left; padding: 10px 12px;
  background: var(--pb-surface); color: var(--pb-fg); border: 1px solid var(--pb-border); border-radius: var(--pb-radius); cursor: pointer; font: inherit; }
ul.providers button:hover { border-color: var(--pb-accent); }
ul.providers img { width: 28px; height: 28px; border-radius: 6px; }
.category { color: var(--pb-muted); font-size: 0.85rem; margin-left: auto; }
.field { margin-bottom: 14px; }
.field label { display: block; font-weight: 600; margin-bottom: 4px; }
.field .hint { color: var(--pb-muted); font-size: 0.85rem; margin: 2px 0 4px; }
.field .problem { color: var(--pb-error); font-size: 0.85rem; margin-top: 4px; }
.field [aria-invalid="true"] { border-color: var(--pb-error); }
.row { display: flex; gap: 8px; }
.row input { flex: 1; }
.notice { background: var(--pb-surface); border: 1px solid var(--pb-border); border-radius: var(--pb-radius); padding: 10px 12px; margin-bottom: 14px; }
.actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 18px; }
button.primary, button.secondary, button.small { font: inherit; border-radius: calc(var(--pb-radius) * 0.6); cursor: pointer; }
button.primary { background: var(--pb-accent); color: var(--pb-accent-fg); border: 1px solid var(--pb-accent); padding: 8px 16px; font-weight: 600; }
button.primary[disabled] { opacity: 0.6; cursor: not-allowed; }
button.secondary { background: transparent; color: var(--pb-fg); border: 1px solid var(--pb-border); padding: 8px 16px; }
button.small { background: var(--pb-surface); color: var(--pb-fg); border: 1px solid var(--pb-border); padding: 6px 10px; white-space: nowrap; }
.error { border-left: 4px solid var(--pb-error); padding: 8px 12px; background: var(--pb-surface); border-radius: 6px; }
pre.provider { white-space: pre-wrap; word-break: break-word; background: var(--pb-surface); border: 1px solid var(--pb-border);
  border-radius: 6px; padding: 8px; font-size: 0.8rem; max-height: 160px; overflow: auto; }
.spinner { width: 28px; height: 28px; border: 3px solid var(--pb-border); border-top-color: var(--pb-accent); border-radius: 50%;
  animation: spin 0.9s linear infinite; margin: 16px auto; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
