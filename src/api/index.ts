export { type ApiAppOptions, buildApiApp } from './app.ts'
