import { h, render } from 'preact';
import { HubClient } from './api.ts';
import { App, type Notify } from './app.tsx';
import { pickLocale, translator } from './i18n/index.ts';
import { styles } from './styles.ts';

/**
 * <plugboard-hub token="…" base-url="…" lang="de" theme="dark" target-origin="https://app.example"
 * return-url="https://app.example/settings">
 * Preact inside a Shadow DOM. Emits `success` ({ id, provider }) and `close` events; inside a popup
 * or iframe it also posts `plugboard:success` / `plugboard:close` to the opener or parent, to an
 * explicit origin only (the `target-origin` attribute, else the referrer's origin), never "*". In a
 * plain tab, Close goes to `return-url` when there is one (call preventDefault() on the close event to
 * handle it yourself); on Plugboard's hosted page without one it closes the tab or says it can be closed.
 */
export class PlugboardHub extends HTMLElement {
  static observedAttributes = ['token', 'base-url', 'lang', 'theme'];
  private root: ShadowRoot;
  private media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;
  /** One client per base URL and token: a new one would make the app fetch everything again. */
  private client?: { key: string; client: HubClient };
  private scheduled = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
  }

  connectedCallback() {
    this.media?.addEventListener('change', this.applyTheme);
    this.schedule();
  }

  disconnectedCallback() {
    this.media?.removeEventListener('change', this.applyTheme);
    render(null, this.root);
    this.client = undefined;
  }

  attributeChangedCallback() {
    // An upgraded element reports each attribute in turn (token, base-url, lang…), then connects:
    // render once, after the last of them.
    if (this.isConnected) this.schedule();
  }

  private schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.isConnected) this.update();
    });
  }

  private applyTheme = () => {
    const theme = this.getAttribute('theme');
    const dark = theme === 'dark' || (theme !== 'light' && !!this.media?.matches);
    this.dataset.theme = dark ? 'dark' : 'light';
  };

  private notify: Notify = (type, detail) => {
    const event = new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable: true });
    const handled = !this.dispatchEvent(event);
    const target = window.opener ?? (window.parent !== window ? window.parent : undefined);
    const origin = this.getAttribute('target-origin') ?? referrerOrigin();
    if (target && origin) target.postMessage({ type: `plugboard:${type}`, ...detail }, origin);
    if (type !== 'close' || handled || target) return 'done';
    // A plain tab: no opener or parent gets the message, so the element finishes by itself.
    const back = returnUrl(this.getAttribute('return-url'));
    if (back) {
      window.location.assign(back);
      return 'done';
    }
    // On an embedder's page, Close is the embedder's business (the close event). On Plugboard's own
    // hosted page, try to close the tab: browsers allow it for a tab a script or a link opened fresh,
    // and refuse otherwise, so the hub then says the window can be closed.
    const own = new URL(this.getAttribute('base-url') ?? window.location.origin, window.location.href).origin;
    if (own !== window.location.origin) return 'done';
    window.close();
    return 'closeable';
  };

  private update() {
    this.applyTheme();
    const token = this.getAttribute('token');
    if (!token) return;
    const baseUrl = this.getAttribute('base-url') ?? window.location.origin;
    const locale = pickLocale(this.getAttribute('lang'), navigator.languages);
    const key = `${baseUrl}|${token}`;
    if (this.client?.key !== key) this.client = { key, client: new HubClient(baseUrl, token) };
    const client = this.client.client;
    client.lang = locale;
    render(
      h(
        'div',
        { lang: locale },
        h('style', null, styles),
        h(App, { key, client, t: translator(locale), notify: this.notify }),
      ),
      this.root,
    );
  }
}

/** Only an http(s) URL: the attribute must never run script (javascript:) or open other schemes. */
function returnUrl(value: string | null): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function referrerOrigin(): string | undefined {
  try {
    return document.referrer ? new URL(document.referrer).origin : undefined;
  } catch {
    return undefined;
  }
}

if (!customElements.get('plugboard-hub')) customElements.define('plugboard-hub', PlugboardHub);
