export { backlogOf, Reindexer, type Backlog } from './reindexer.ts';
export { checkDerived, type DerivedCheck } from './check.ts';
