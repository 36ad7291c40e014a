import { render } from 'preact';
import { App } from './app.tsx';
import { css } from './styles.ts';

const style = document.createElement('style');
style.textContent = css;
document.head.append(style);
const saved = localStorage.getItem('plugboard-theme');
if (saved === 'light' || saved === 'dark') document.documentElement.dataset.theme = saved;
render(<App />, document.getElementById('app')!);
