export { PAGE_CSP, servePage } from './serve-page.ts';
