/** The node's store in data_dir (created if missing), opened as the node opens it: one opener for every process. */
export { openStore } from '../node.ts';
