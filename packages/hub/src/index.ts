import { h, render } from 'preact';
import { HubClient } from './api.ts';
import { App, type Notify } from './app.tsx';
import { pickLocale, translator } from './i18n/index.ts';
import { styles } from './styles.ts';

/**
 * <plugboard-hub token="…" base-url="…" lang="de" theme="dark" target-origin="https://app.example">
 * Preact inside a Shadow DOM. Emits `success` ({ id, provider }) and `close` events; inside a popup
 * or iframe it also posts `plugboard:success` / `plugboard:close` to the opener or parent, to an
 * explicit origin only (the `target-origin` attribute, else the referrer's origin), never "*".
 */
export class PlugboardHub extends HTMLElement {
  static observedAttributes = ['token', 'base-url', 'lang', 'theme'];
  private root: ShadowRoot;
  private media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : undefined;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
  }

  connectedCallback() {
    this.media?.addEventListener('change', this.applyTheme);
    this.update();
  }

  disconnectedCallback() {
    this.media?.removeEventListener('change', this.applyTheme);
    render(null, this.root);
  }

  attributeChangedCallback() {
    if (this.isConnected) this.update();
  }

  private applyTheme = () => {
    const theme = this.getAttribute('theme');
    const dark = theme === 'dark' || (theme !== 'light' && !!this.media?.matches);
    this.dataset.theme = dark ? 'dark' : 'light';
  };

  private notify: Notify = (type, detail) => {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    const target = window.opener ?? (window.parent !== window ? window.parent : undefined);
    const origin = this.getAttribute('target-origin') ?? referrerOrigin();
    if (target && origin) target.postMessage({ type: `plugboard:${type}`, ...detail }, origin);
  };

  private update() {
    this.applyTheme();
    const token = this.getAttribute('token');
    if (!token) return;
    const baseUrl = this.getAttribute('base-url') ?? window.location.origin;
    const locale = pickLocale(this.getAttribute('lang'), navigator.languages);
    const client = new HubClient(baseUrl, token);
    render(
      h(
        'div',
        { lang: locale },
        h('style', null, styles),
        h(App, { key: `${baseUrl}|${token}`, client, t: translator(locale), notify: this.notify }),
      ),
      this.root,
    );
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
