export { Store, type StatementsInBatch, type StoreOptions } from './store.ts';
export { StoreError } from './errors.ts';
export type * from './types.ts';
