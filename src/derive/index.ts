export { backlogOf, Reindexer, type Backlog } from './reindexer.ts';
export { checkDerived, type DerivedCheck } from './check.ts';
export { addJob, reconcileConfiguration, refactsAll, type MemberReaders, type Reconciliation } from './jobs.ts';
